// docs/protocol.md, "Frames": a history reply's data is {"events":[…]}, the newest `limit` events (up to 1000);
// Delivery guarantee 4: 4008 is for a connection that cannot keep up. A history reply larger than the send-queue bound
// reaches a fast client whole. (Regression: the hard queue limit used to apply to the reply itself and
// closed such a client with 4008, so the page could never be read.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, lit } from '../e2e-protocol/lib/proto.mjs';

// A reply carries at most 256 KiB of events and says `more: true` when older ones exist (issue:
// replies bounded in bytes); a reading client gets everything by paging with `before`.
async function wholeHistory(c, room, limit) {
  const events = [];
  let before;
  for (;;) {
    const d = await c.ok({ type: 'history', room, limit, ...(before ? { before } : {}) }, 20000);
    events.unshift(...d.events);
    if (!d.more) return events;
    before = d.events[0].seq;
  }
}

test('history with limit 1000 over 3 KB messages (a ~3 MB reply) is delivered to a reading client', { timeout: 60000 }, async (t) => {
  const b = await new Bridge().start();
  t.after(() => b.stop());
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('h', 3000))) FROM generate_series(1, 1000) g`);
  const c = await open(b, alice);
  await c.join(room);
  const d = { events: await wholeHistory(c, room, 1000) };
  assert.equal(d.events.length, 1001, 'the 1000 messages and room_created');
  d.events.shift();
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
  const d = { events: await wholeHistory(c, room, 50) };
  assert.equal(d.events.length, 41);
  await closeAll(c);
});
