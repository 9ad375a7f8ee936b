// docs/protocol.md, delivery guarantee 4: a connection that cannot keep up is closed with 4008, also while the bridge replays to
// it. (Regression: a paced replay waited for the queue to drain without any timer, so a client that
// stopped reading mid-replay was never closed with 4008. The bridge now closes a client that takes no
// data for --slow-consumer-ms while some waits for it, whatever put the data there.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, lit, until, within, assertSeqRange } from '../e2e-protocol/lib/proto.mjs';

test('a client that stops reading during a replay is closed with 4008 within --slow-consumer-ms, and resumes with since', { timeout: 60000 }, async (t) => {
  const b = await new Bridge({ args: ['--slow-consumer-ms', '1000'] }).start();
  t.after(() => b.stop());
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  // ~21 MB of log: far more than the 1 MiB queue, so the replay must wait for the client.
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('q', 7000))) FROM generate_series(1, 3000) g`);
  const c = await open(b, alice);
  c.send({ type: 'join', room, since: 0, ref: 'j' });
  c.ws.pause();
  const closes = async () => Number((await (await fetch(`${b.url}/metrics`)).text())
    .split('\n').find((l) => /^\w*slow_consumer\w*\s+\d/.test(l))?.trim().split(/\s+/).pop() ?? NaN);
  await until(async () => (await closes()) >= 1, { timeout: 10000, interval: 200, what: 'a slow-consumer close (1 s setting) of the paused client' });
  c.ws.resume();
  const cl = await within(c.closed, 20000, 'close');
  assert.equal(cl.code, 4008);
  const got = c.seqs(room);
  const again = await open(b, alice);
  await again.join(room, { since: got.at(-1) ?? 0 });
  await again.waitSeq(room, 3001, 30000);
  assertSeqRange([...got, ...again.seqs(room)], 1, 3001, 'over both connections');
  await closeAll(again);
});
