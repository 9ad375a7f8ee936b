// docs/protocol.md "history": a reply carries at most 256 KiB of events (at least one), newest
// first, and `more: true` while older events exist; the client pages on with `before`. 64 events of
// 64 KiB would be a 4 MiB reply, four times --max-queue-bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, lit } from './lib/proto.mjs';

const BUDGET = 256 * 1024;

test('64 events of 64 KiB are paged within the byte budget, every event once, in order', { timeout: 60000 }, async (t) => {
  const b = await new Bridge().start();
  t.after(() => b.stop());
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('p', 64000))) FROM generate_series(1, 64) g`);
  const c = await open(b, alice);
  await c.join(room);
  const pages = [];
  let before;
  for (let i = 0; i < 100; i++) {
    const d = await c.ok({ type: 'history', room, limit: 1000, ...(before ? { before } : {}) }, 20000);
    pages.push(d);
    const bytes = d.events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
    assert.ok(bytes <= BUDGET, `page ${i}: ${bytes} bytes of events`);
    assert.ok(Buffer.byteLength(JSON.stringify(d)) < 1048576 / 2, 'a reply stays well under --max-queue-bytes');
    assert.ok(d.events.length >= 1, 'a page always makes progress');
    if (!d.more) break;
    assert.equal(d.more, true);
    before = d.events[0].seq;
  }
  assert.ok(pages.length >= 16, `${pages.length} pages`);
  const seqs = pages.reverse().flatMap((d) => d.events.map((e) => e.seq));
  assert.deepEqual(seqs, Array.from({ length: 65 }, (_, i) => i + 1));
  assert.equal(pages[0].more, undefined, 'the oldest page says nothing more');
  const small = await c.ok({ type: 'history', room, limit: 2 });
  assert.deepEqual(small.events.map((e) => e.seq), [64, 65]);
  assert.equal(small.more, true, 'a count-limited page says there is more too');
  await closeAll(c);
});
