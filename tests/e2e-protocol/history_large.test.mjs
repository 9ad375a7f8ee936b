// docs/protocol.md, "Frames": a history reply's data is {"events":[…]}, the newest `limit` events (up to 1000);
// Delivery guarantee 4: 4008 is for a connection that cannot keep up. A history reply larger than the send-queue bound
// reaches a fast client whole. (Regression: the hard queue limit used to apply to the reply itself and
// closed such a client with 4008, so the page could never be read.)
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
