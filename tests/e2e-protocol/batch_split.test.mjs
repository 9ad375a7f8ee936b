// docs/protocol.md "Delivery guarantees" 5: a command can only fail itself. When rt.batch fails as a
// whole (here: a deferred constraint trigger that refuses one message at commit, outside rt.batch's
// per-command isolation), nothing of the batch was committed; the bridge sends each of its commands
// again on its own, so only the guilty one gets an error and every other user's send succeeds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, eventCount } from './lib/proto.mjs';

const marker = `poison_${process.pid}`;
let bridge;

before(async () => {
  // One pool connection: while one unit is in the database, the others' commands queue and are
  // batched together (one per connection), so the poisoned send shares a batch with good ones.
  bridge = await new Bridge({ args: ['--db-pool-size', '1'] }).start();
  await psql(`CREATE OR REPLACE FUNCTION public.${marker}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.body = '${marker}' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$;
              CREATE CONSTRAINT TRIGGER ${marker} AFTER INSERT ON rt.messages DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION public.${marker}()`);
});
after(async () => {
  await psql(`DROP TRIGGER IF EXISTS ${marker} ON rt.messages; DROP FUNCTION IF EXISTS public.${marker}()`);
  const status = await bridge.stop();
  assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
});

async function metric(sample) {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

test('a batch that fails at commit is split: the poisoned send fails alone, 40 sends of 4 other users succeed', async () => {
  const owner = uid('owner'), bad = uid('mallory');
  const goodUsers = [uid('g1'), uid('g2'), uid('g3'), uid('g4')];
  const room = await makeRoom({ owner, members: Object.fromEntries([bad, ...goodUsers].map((u) => [u, 'member'])) });
  const goods = await Promise.all(goodUsers.map((u) => open(bridge, u)));
  const x = await open(bridge, bad);
  for (const c of [...goods, x]) await c.join(room);
  const before = await eventCount(room);
  const sends = [];
  for (let i = 0; i < 10; i++) {
    for (const c of goods) sends.push(c.request({ type: 'send', room, body: `good ${c.user} ${i}` }, 15000));
    if (i === 1) sends.push(x.request({ type: 'send', room, body: marker }, 15000).then((r) => ({ poisoned: r })));
  }
  const results = await Promise.all(sends);
  const poisoned = results.find((r) => r.poisoned).poisoned;
  const others = results.filter((r) => !r.poisoned);
  for (const r of others) assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(poisoned.ok, false);
  assert.equal(poisoned.error.code, 'INTERNAL', JSON.stringify(poisoned));
  assert.equal(await eventCount(room), before + 40, 'every good send stored once, the poisoned one not at all');
  assert.ok(await metric('pgrt_db_batches_split_total') >= 1, 'the poisoned send did share a batch');
  assert.match(bridge.log, /event=batch_failed/);
  await closeAll(...goods, x);
});
