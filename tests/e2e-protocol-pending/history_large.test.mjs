// CONTRACT §4: a history reply's data is {"events":[…]}, the newest `limit` events (the SQL API allows
// limit up to 1000); §6.4: 4008 is for a connection that cannot keep up. Deviation: a history reply
// larger than 2 × --max-queue-bytes (default 2 MiB: 1,000 events of 3 KB, or ~32 events of 64 KiB)
// closes a perfectly fast client with 4008 (log: slow_consumer_closed reason=hard_limit
// queued_frames=0) instead of delivering the reply; resuming with since does not help, so the page
// can never be read. bridge/session.c session_send() applies the hard limit to the reply itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, lit } from '../e2e-protocol/lib/proto.mjs';

test('history with limit 1000 over 3 KB messages (a ~3 MB reply) is delivered to a reading client', { timeout: 60000 }, async (t) => {
  const b = await new Bridge().start();
  t.after(() => b.stop());
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('h', 3000))) FROM generate_series(1, 1000) g`);
  const c = await open(b, alice);
  await c.join(room);
  const d = await c.ok({ type: 'history', room, limit: 1000 }, 20000);
  assert.equal(d.events.length, 1000);
  assert.deepEqual(d.events.map((e) => e.seq), Array.from({ length: 1000 }, (_, i) => i + 2));
  await closeAll(c);
});

test('history of 40 events of ~60 KiB (within the 64 KiB event limit) is delivered', { timeout: 60000 }, async (t) => {
  const b = await new Bridge().start();
  t.after(() => b.stop());
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('H', 60000))) FROM generate_series(1, 40) g`);
  const c = await open(b, alice);
  await c.join(room);
  const d = await c.ok({ type: 'history', room, limit: 50 }, 20000);
  assert.equal(d.events.length, 41);
  await closeAll(c);
});
