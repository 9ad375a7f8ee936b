// Only pgrt's own functions can put an event in front of a client (docs/operations.md "Trust
// model"): a role that is not an rt_* role cannot connect at all, and one the operator let in
// (a shared database) can NOTIFY the room channels, but its payloads are dropped, counted and
// logged, never delivered and never hiding the real event with the same seq.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, lastSeq, sleep, until,
} from './lib/proto.mjs';

let bridge, intruder;
const pgUser = (user) => ({ PGUSER: user });

async function metric(sample) {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

before(async () => {
  bridge = await new Bridge().start();
  intruder = `intruder_${process.pid}`;
  await psql(`DROP ROLE IF EXISTS ${intruder}; CREATE ROLE ${intruder} LOGIN IN ROLE pg_monitor`);
});
after(async () => {
  await psql(`DROP OWNED BY ${intruder}; DROP ROLE IF EXISTS ${intruder}`).catch(() => {});
  const status = await bridge.stop();
  assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
});

test('a role that is not an rt_* role cannot connect to the database (no LISTEN, no NOTIFY)', async () => {
  await assert.rejects(psql('SELECT 1', pgUser(intruder)), /permission denied for database/);
  assert.equal(await psql(`SELECT has_database_privilege('public', current_database(), 'CONNECT')`), 'f');
  for (const role of ['rt_bridge', 'rt_service']) {
    assert.equal(await psql(`SELECT has_database_privilege('${role}', current_database(), 'CONNECT')`), 't', role);
  }
});

test('forged NOTIFY payloads from a connected non-rt role never reach a client and never hide the real event', async () => {
  await psql(`GRANT CONNECT ON DATABASE ${await psql('SELECT current_database()')} TO ${intruder}`);
  try {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const head = await lastSeq(room);
    const channel = await psql(`SELECT rt.room_channel(${lit(room)})`);
    const forged = (seq, extra = '') => JSON.stringify({
      type: 'event', room, seq, event: 'message', actor: alice, at: new Date().toISOString(), data: { body: 'FORGED' },
    }).slice(0, -1) + extra + '}';
    const fills = await metric('pgrt_gap_fills_total');
    // Unsigned; a tag of the right shape with a wrong MAC; an unknown key; a huge seq; a system frame.
    const payloads = [
      [channel, forged(head + 1)],
      [channel, forged(head + 1, `, "sig": "1.${'0'.repeat(64)}"`)],
      [channel, forged(head + 1, `, "sig": "99999.${'a'.repeat(64)}"`)],
      [channel, forged(9007199254740000)],
      ['rt_system', JSON.stringify({ type: 'system', event: 'notice', user: bob, data: { body: 'FORGED' } })],
    ];
    for (const [ch, p] of payloads) await psql(`SELECT pg_notify(${lit(ch)}, ${lit(p)})`, pgUser(intruder));
    await until(async () => (await metric('pgrt_notifications_rejected_total{reason="unsigned"}')) >= 3,
      { what: 'the forged payloads to be rejected' });
    assert.ok(await metric('pgrt_notifications_rejected_total{reason="bad_tag"}') >= 1);
    assert.ok(await metric('pgrt_notifications_rejected_total{reason="unknown_key"}') >= 1);
    // The real event with that seq is delivered, with its real body, to both members.
    await a.ok({ type: 'send', room, body: 'real' });
    await a.waitSeq(room, head + 1); await b.waitSeq(room, head + 1);
    for (const c of [a, b]) {
      const ev = c.events(room).find((e) => e.seq === head + 1);
      assert.equal(ev.data.body, 'real');
      assert.equal(ev.sig, undefined, 'the tag is stripped before forwarding');
    }
    await sleep(300);
    for (const c of [a, b]) {
      assert.ok(!JSON.stringify(c.log).includes('FORGED'), 'a forged frame reached a client');
    }
    assert.equal(await metric('pgrt_gap_fills_total'), fills, 'forged seqs caused no gap fill');
    assert.match(bridge.log, /event=notify_rejected reason=(unsigned|bad_tag|unknown_key)/);
    await closeAll(a, b);
  } finally {
    await psql(`REVOKE CONNECT ON DATABASE ${await psql('SELECT current_database()')} FROM ${intruder}`);
  }
});

test('SQL clients that LISTEN see the wire frame plus a "sig" member they may ignore', async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const channel = await psql(`SELECT rt.room_channel(${lit(room)})`);
  const out = await psql(`LISTEN ${channel}; SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'hello'); SELECT 1`);
  const line = out.split('\n').find((l) => l.includes('"sig"'));
  assert.ok(line, out);
  const payload = JSON.parse(line.match(/payload "(.*)" received/)[1]);
  assert.equal(payload.data.body, 'hello');
  assert.match(payload.sig, /^\d+\.[0-9a-f]{64}$/);
});
