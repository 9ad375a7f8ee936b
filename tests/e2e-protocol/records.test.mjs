// The record over WebSocket (docs/protocol.md "Search" and "Erasure"; docs/sql-api.md "Search",
// "Export", "Erasure of a user"): search honours the rights of live delivery; an erased user's text
// is gone from history, search, export and replay on every bridge, and open clients are told live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, assertSeqRange, checkEvent, checkError, lastSeq,
} from './lib/proto.mjs';

let b1, b2;
before(async () => {
  [b1, b2] = await Promise.all([new Bridge().start(), new Bridge().start()]);
});
after(async () => {
  const [s1, s2] = await Promise.all([b1.stop(), b2.stop()]);
  assert.deepEqual(s1, { code: 0, signal: null }, b1.log.slice(-3000));
  assert.deepEqual(s2, { code: 0, signal: null }, b2.log.slice(-3000));
});

const rooms = (results) => results.map((r) => `${r.room}:${r.seq}`);

test('search: every readable room without joining, newest first, escaped snippets; a removed member finds nothing of the room', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const a = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const b = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const word = `kiwi${uid('w').slice(2)}`; // unique to this test
  const aliceC = await open(b1, alice), bobC = await open(b2, bob);
  await aliceC.join(a);
  await aliceC.join(b);
  const m1 = await aliceC.ok({ type: 'send', room: a, body: `first ${word} <b>bold</b>` });
  const m2 = await aliceC.ok({ type: 'send', room: b, body: `second ${word}` });
  await aliceC.ok({ type: 'send', room: b, body: 'unrelated' });

  // bob has joined nothing, on the other bridge.
  const found = await bobC.ok({ type: 'search', query: word });
  assert.deepEqual(rooms(found.results), [`${b}:${m2.seq}`, `${a}:${m1.seq}`]);
  const hit = found.results[1];
  assert.deepEqual(Object.keys(hit).sort(), ['actor', 'at', 'event', 'room', 'seq', 'snippet']);
  assert.equal(hit.event, 'message');
  assert.equal(hit.actor, alice);
  assert.equal(hit.at, m1.at);
  assert.equal(hit.snippet, `first <mark>${word}</mark> &lt;b&gt;bold&lt;/b&gt;`);
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: word, room: a })).results), [`${a}:${m1.seq}`], 'one room');
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: word, limit: 1 })).results), [`${b}:${m2.seq}`], 'limit');
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: word, before: m2.at })).results), [`${a}:${m1.seq}`], 'before');

  // Edited: the new text only. Deleted: never.
  await aliceC.ok({ type: 'edit', room: a, seq: m1.seq, body: 'rewritten' });
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: word })).results), [`${b}:${m2.seq}`], 'edit');
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: 'rewritten', room: a })).results), [`${a}:${m1.seq}`]);
  await aliceC.ok({ type: 'delete', room: b, seq: m2.seq });
  assert.deepEqual((await bobC.ok({ type: 'search', query: word })).results, [], 'deleted');

  // Removal: bob (still connected) finds nothing of room a any more, at once.
  const m3 = await aliceC.ok({ type: 'send', room: b, body: `third ${word}` });
  const m4 = await aliceC.ok({ type: 'send', room: a, body: `fourth ${word}` });
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: word })).results), [`${a}:${m4.seq}`, `${b}:${m3.seq}`]);
  await psql(`SELECT rt.remove_member(${lit(a)}, ${lit(bob)}, ${lit(alice)})`);
  assert.deepEqual(rooms((await bobC.ok({ type: 'search', query: word })).results), [`${b}:${m3.seq}`], 'removed from a');
  const e = await bobC.fail({ type: 'search', query: word, room: a }, 'FORBIDDEN');
  const e2 = await bobC.fail({ type: 'search', query: word, room: uid('nope') }, 'FORBIDDEN');
  assert.equal(e.message.replace(a, 'R'), e2.message.replace(/room_[0-9a-f]+|nope_[0-9a-f]+/, 'R'), 'same words whether or not the room exists');
  await closeAll(aliceC, bobC);
});

test('search: bad input gets a documented error and changes nothing', async () => {
  const u = uid('u');
  const c = await open(b1, u);
  await c.fail({ type: 'search' }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: '   ' }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: 7 }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: 'x'.repeat(501) }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: 'x', limit: 0 }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: 'x', limit: 101 }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: 'x', before: 'yesterday' }, 'BAD_REQUEST');
  await c.fail({ type: 'search', query: 'x', room: 'bad room' }, 'BAD_REQUEST');
  // Without a ref there is nothing to reply to: an error frame, and nothing runs.
  c.send({ type: 'search', query: 'x' });
  checkError(await c.next((f) => f.type === 'error'));
  assert.deepEqual((await c.ok({ type: 'search', query: 'anything' })).results, [], 'a user in no room finds nothing');
  await closeAll(c);
});

test('erasure: open clients on both bridges are told live; history, search, export and replay on both bridges hold no trace, seq gap-free', async () => {
  const alice = uid('alice'), bob = uid('bob'), eve = uid('eve');
  const a = await makeRoom({ owner: alice, members: { [bob]: 'member', [eve]: 'member' } });
  const m = await makeRoom({ kind: 'meeting', owner: alice, members: { [eve]: 'service' } });
  const secret = `secret${uid('s').slice(2)}`;
  const eveC = await open(b1, eve);
  await eveC.join(a);
  await eveC.join(m);
  const sent = [];
  for (let i = 0; i < 5; i++) {
    sent.push(await eveC.ok({ type: 'send', room: a, body: `${secret} number ${i}`, media_url: 'https://x.example/p.png' }));
  }
  await eveC.ok({ type: 'edit', room: a, seq: sent[0].seq, body: `${secret} edited` });
  await eveC.ok({ type: 'publish', room: m, event: 'transcript', data: { text: `${secret} spoken` } });
  const aliceC = await open(b2, alice), bobC = await open(b1, bob);
  await aliceC.join(a, { since: 0 });
  await aliceC.join(m, { since: 0 });
  await bobC.join(a, { since: 0 });
  const upto = await lastSeq(a);
  await aliceC.waitSeq(a, upto);
  await bobC.waitSeq(a, upto);
  assert.ok(aliceC.events(a).some((ev) => JSON.stringify(ev).includes(secret)), 'before: alice saw the text');
  assert.equal((await aliceC.ok({ type: 'search', query: secret })).results.length, 6, 'before: found (5 messages, 1 transcript)');

  const counts = JSON.parse(await psql(`SELECT rt.erase_user(${lit(eve)}, 'dpo@example')`));
  assert.deepEqual(counts, { user: eve, rooms: 2, messages: 5, events: 7, receipts: 0, presence: 2 });

  // Live, on both bridges: user_erased {user, upto} in each room they have joined.
  for (const [c, room] of [[aliceC, a], [aliceC, m], [bobC, a]]) {
    const ev = await c.next((f) => f.type === 'event' && f.room === room && f.event === 'user_erased', 10000);
    checkEvent(ev, { room, event: 'user_erased' });
    assert.equal(ev.actor, null);
    assert.equal(ev.data.user, eve);
    assert.equal(ev.data.upto, ev.seq - 1);
  }

  const noTrace = (x, what) => assert.ok(!JSON.stringify(x).includes(secret) && !JSON.stringify(x).includes('p.png'), `${what}: ${JSON.stringify(x).slice(0, 400)}`);
  const last = await lastSeq(a);
  for (const [bridge, name] of [[b1, 'b1'], [b2, 'b2']]) {
    const c = await open(bridge, alice);
    // History.
    const h = await c.ok({ type: 'history', room: a, limit: 1000 });
    noTrace(h, `history on ${name}`);
    assertSeqRange(h.events.map((ev) => ev.seq), 1, last, `history on ${name}`);
    const tomb = h.events.find((ev) => ev.seq === sent[1].seq);
    assert.deepEqual({ event: tomb.event, actor: tomb.actor, body: tomb.data.body, media_url: tomb.data.media_url, erased: tomb.data.erased },
      { event: 'message', actor: eve, body: null, media_url: null, erased: true }, `tombstone on ${name}`);
    // Search.
    assert.deepEqual((await c.ok({ type: 'search', query: secret })).results, [], `search on ${name}`);
    // Replay from 0 and from the middle.
    for (const since of [0, sent[2].seq - 1]) {
      const r = await open(bridge, alice);
      await r.join(a, { since });
      await r.waitSeq(a, last);
      await r.barrier();
      assertSeqRange(r.seqs(a), since + 1, last, `replay since ${since} on ${name}`);
      noTrace(r.events(a), `replay since ${since} on ${name}`);
      assert.equal(r.events(a).at(-1).event, 'user_erased');
      await closeAll(r);
    }
    await closeAll(c);
  }
  // Export.
  const exported = await psql(`SELECT * FROM rt.export_room(${lit(a)}, 0, ${lit(alice)})`);
  assert.equal(exported.split('\n').length, last);
  noTrace(exported, 'export');
  noTrace(await psql(`SELECT * FROM rt.export_room(${lit(m)})`), 'export of the meeting');
  await closeAll(aliceC, bobC, eveC);
});
