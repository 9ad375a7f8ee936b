// Two bridges on one database (README; docs/protocol.md frames, delivery guarantee 3): the same events in the same seq order on
// both, presence across bridges, and psql writes reaching WebSocket clients on both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, dbEvents, assertSeqRange, checkEvent, checkSignal,
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

test('the two bridges are distinct (welcome.bridge differs)', async () => {
  const x = await open(b1, uid('u')), y = await open(b2, uid('u'));
  assert.notEqual(x.welcome.bridge, y.welcome.bridge);
  await closeAll(x, y);
});

test('concurrent sends from clients on both bridges: everyone sees the same events in the same seq order as rt.events', async () => {
  const users = [uid('alice'), uid('bob'), uid('carol'), uid('dave')];
  const room = await makeRoom({ owner: users[0], members: Object.fromEntries(users.slice(1).map((u) => [u, 'member'])) });
  const clients = await Promise.all(users.map((u, i) => open(i % 2 ? b2 : b1, u)));
  const joins = await Promise.all(clients.map((c) => c.join(room)));
  const start = Math.max(...joins.map((d) => d.seq));
  assert.equal(start, 4);
  const sends = [];
  for (let i = 0; i < 25; i++) for (const c of clients) sends.push(c.request({ type: 'send', room, body: `${c.user} #${i}` }, 15000));
  const replies = await Promise.all(sends);
  for (const r of replies) assert.equal(r.ok, true, JSON.stringify(r));
  const last = start + 100;
  assert.deepEqual(replies.map((r) => r.data.seq).sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => start + 1 + i));
  await Promise.all(clients.map((c) => c.waitSeq(room, last)));
  for (const c of clients) await c.barrier();
  const db = await dbEvents(room);
  for (const c of clients) {
    assertSeqRange(c.seqs(room), start + 1, last, `${c.user} on ${c === clients[0] || c === clients[2] ? 'b1' : 'b2'}`);
    assert.deepEqual(c.events(room).map((e) => ({ seq: e.seq, event: e.event, actor: e.actor })), db.slice(start));
  }
  // Identical frames on both bridges.
  assert.deepEqual(clients[1].events(room), clients[0].events(room));
  await closeAll(clients);
});

test('presence spans both bridges: the join reply lists users on the other bridge; joined/left signals cross', async () => {
  const alice = uid('alice'), bob = uid('bob'), carol = uid('carol');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member', [carol]: 'member' } });
  const bobC = await open(b2, bob);
  await bobC.join(room);
  const aliceC = await open(b1, alice);
  const d = await aliceC.join(room);
  assert.deepEqual([...d.presence].sort(), [alice, bob].sort(), `presence ${JSON.stringify(d.presence)}`);
  // bob (b2) learns that alice (b1) joined.
  const j = await bobC.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === alice);
  checkSignal(j, { room, event: 'presence' });
  assert.equal(j.data.status, 'joined');
  // carol on b2; alice (b1) learns.
  const carolC = await open(b2, carol);
  const dc = await carolC.join(room);
  assert.deepEqual([...dc.presence].sort(), [alice, bob, carol].sort());
  await aliceC.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === carol && f.data?.status === 'joined');
  // bob disconnects from b2: alice on b1 gets left.
  await bobC.close();
  await aliceC.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === bob && f.data?.status === 'left', 10000);
  const again = await open(b1, alice);
  const d2 = await again.join(room);
  assert.deepEqual([...d2.presence].sort(), [alice, carol].sort());
  await closeAll(aliceC, carolC, again);
});

test('a user connected to both bridges counts once in presence and leaves only with the last connection', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const watcher = await open(b1, alice);
  await watcher.join(room);
  const bob1 = await open(b1, bob), bob2 = await open(b2, bob);
  await bob1.join(room);
  const d = await bob2.join(room);
  assert.deepEqual([...d.presence].sort(), [alice, bob].sort());
  // (Presence is coalesced over a short interval: wait for bob's joined before he leaves.)
  await watcher.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === bob && f.data?.status === 'joined');
  await bob1.close();
  const probe = await open(b2, alice);
  const dp = await probe.join(room);
  assert.ok(dp.presence.includes(bob), 'bob still has a connection on b2');
  await bob2.close();
  await watcher.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === bob && f.data?.status === 'left', 10000);
  await watcher.barrier();
  for (const status of ['joined', 'left']) {
    const frames = watcher.log.filter((f) => f.type === 'event' && f.event === 'presence' && f.data?.user === bob && f.data?.status === status);
    assert.equal(frames.length, 1, `exactly one ${status} for bob: ${JSON.stringify(frames)}`);
  }
  await closeAll(watcher, probe);
});

test('psql rt.post_message (small and 20 KiB) reaches clients on both bridges intact', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const x = await open(b1, alice), y = await open(b2, bob);
  await x.join(room); await y.join(room);
  const small = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(bob)}, 'from psql')`));
  for (const c of [x, y]) assert.deepEqual(await c.next((f) => f.type === 'event' && f.seq === small.seq), small);
  const chunk = 'Grüße, 世界! 🎉 "quoted" \\ back\\slash\n';
  let body = '';
  while (Buffer.byteLength(body) < 20 * 1024) body += chunk;
  const big = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, ${lit(body)})`));
  for (const c of [x, y]) {
    const ev = await c.next((f) => f.type === 'event' && f.seq === big.seq, 10000);
    checkEvent(ev, { room, event: 'message', actor: alice });
    assert.equal(ev.data.body, body, 'the 20 KiB body arrived changed');
    assert.deepEqual(ev, big);
  }
  await closeAll(x, y);
});

test('an abrupt disconnect (no close handshake) ends presence: others on the other bridge get left', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(b1, alice), b = await open(b2, bob);
  await a.join(room);
  await b.join(room);
  await a.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === bob && f.data?.status === 'joined');
  b.ws.terminate();
  await a.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === bob && f.data?.status === 'left', 10000);
  const probe = await open(b1, alice);
  const d = await probe.join(room);
  assert.deepEqual(d.presence, [alice]);
  await closeAll(a, probe);
});

test('signals (typing, read) cross bridges; a client_msg_id retry on the other bridge returns the stored event', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(b1, alice), b = await open(b2, bob);
  await a.join(room); await b.join(room);
  await b.ok({ type: 'signal', room, event: 'typing', data: { on: true } });
  const typing = await a.next((f) => f.type === 'event' && f.room === room && f.event === 'typing');
  checkSignal(typing, { room, event: 'typing', actor: bob });
  const first = await a.ok({ type: 'send', room, body: 'once', client_msg_id: 'cross-1' });
  // The retry comes from alice's connection to the other bridge: client_msg_id is keyed per
  // (room, author, id) (docs/protocol.md), so only the author's own retry returns the stored event.
  const a2 = await open(b2, alice);
  const retry = await a2.ok({ type: 'send', room, body: 'once', client_msg_id: 'cross-1' });
  assert.equal(retry.seq, first.seq);
  assert.deepEqual(retry, first);
  await b.ok({ type: 'read', room, seq: first.seq });
  const read = await a.next((f) => f.type === 'event' && f.room === room && f.event === 'read');
  checkSignal(read, { room, event: 'read' });
  assert.deepEqual(read.data, { user: bob, seq: first.seq });
  const last = await a.ok({ type: 'send', room, body: 'after' });
  await b.waitSeq(room, last.seq);
  assert.deepEqual(b.seqs(room), [first.seq, last.seq], 'the retry stored nothing new');
  await closeAll(a, a2, b);
});
