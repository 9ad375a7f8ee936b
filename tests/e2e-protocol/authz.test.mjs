// Authorization (docs/sql-api.md "Roles and privileges"; docs/protocol.md: join/FORBIDDEN, "Errors" messages): a user never receives events
// of a room they are not a member of; removing a member stops their delivery at once on every
// bridge; presence, history, per-user frames and error messages leak nothing about other rooms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, eventCount, lastSeq, sleep, until, assertSeqRange, checkError,
} from './lib/proto.mjs';

let b1, b2;
before(async () => { [b1, b2] = await Promise.all([new Bridge().start(), new Bridge().start()]); });
after(async () => {
  const [s1, s2] = await Promise.all([b1.stop(), b2.stop()]);
  assert.deepEqual(s1, { code: 0, signal: null }, b1.log.slice(-3000));
  assert.deepEqual(s2, { code: 0, signal: null }, b2.log.slice(-3000));
});

/** Everything a client received, as one string, to search for leaked names. */
const seen = (c) => JSON.stringify(c.log);

test('an outsider connected to both bridges receives nothing of a room it is not in, and every command on it is FORBIDDEN', async () => {
  const alice = uid('alice'), bob = uid('bob'), mallory = uid('mallory');
  const secret = uid('secret');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(b1, alice), b = await open(b2, bob);
  const m1 = await open(b1, mallory), m2 = await open(b2, mallory);
  await a.join(room); await b.join(room);
  const mine = await makeRoom({ owner: mallory });
  await m1.join(mine); await m2.join(mine);

  const before = await eventCount(room);
  const ghost = uid('room');
  for (const m of [m1, m2]) {
    const tries = [
      { type: 'join', room }, { type: 'join', room, since: 0 },
      { type: 'send', room, body: 'let me in' },
      { type: 'publish', room, event: 'status', data: {} },
      { type: 'signal', room, event: 'typing', data: {} },
      { type: 'state', room, to: 'LISTENING' },
      { type: 'edit', room, seq: 1, body: 'x' },
      { type: 'delete', room, seq: 1 },
      { type: 'read', room, seq: 1 },
      { type: 'history', room },
    ];
    for (const f of tries) {
      const e = await m.fail(f, 'FORBIDDEN');
      // The same answer for a room that does not exist: nothing tells them apart.
      const e2 = await m.fail({ ...f, room: ghost }, 'FORBIDDEN');
      assert.equal(e.message.replaceAll(room, 'R'), e2.message.replaceAll(ghost, 'R'), `${f.type}: messages reveal existence`);
      assert.ok(!e.message.includes(alice) && !e.message.includes(bob), `${f.type}: message names a member: ${e.message}`);
    }
  }
  assert.equal(await eventCount(room), before, 'an outsider changed the room');

  // Traffic in the room: messages, a secret body, a signal, presence, a read marker, an edit.
  const msg = await a.ok({ type: 'send', room, body: secret });
  await b.ok({ type: 'signal', room, event: 'typing', data: { secret } });
  await b.ok({ type: 'read', room, seq: msg.seq });
  await a.ok({ type: 'edit', room, seq: msg.seq, body: `${secret}-edited` });
  await psql(`SELECT rt.post_message(${lit(room)}, ${lit(bob)}, ${lit(secret)})`);
  const late = await open(b2, bob);
  await late.join(room);
  await late.close();
  const last = await a.ok({ type: 'send', room, body: 'last' });
  await a.waitSeq(room, last.seq);
  await b.waitSeq(room, last.seq);
  // Mallory's own room keeps working on both bridges, so their connections are live.
  const own = await m1.ok({ type: 'send', room: mine, body: 'mine' });
  await m1.waitSeq(mine, own.seq); await m2.waitSeq(mine, own.seq);
  await sleep(200);
  for (const m of [m1, m2]) {
    assert.equal(m.log.filter((f) => f.room === room).length, 0, `mallory received frames of ${room}: ${JSON.stringify(m.log.filter((f) => f.room === room)).slice(0, 300)}`);
    assert.ok(!seen(m).includes(secret), 'the secret leaked to mallory');
    assert.ok(!seen(m).includes(alice) && !seen(m).includes(bob), 'mallory learned of alice or bob');
  }
  await closeAll(a, b, m1, m2);
});

test('presence in a join reply lists only users online in that room', async () => {
  const alice = uid('alice'), bob = uid('bob'), carol = uid('carol');
  const r1 = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const r2 = await makeRoom({ owner: carol, members: { [bob]: 'member' } });
  const a = await open(b1, alice), b = await open(b2, bob), c = await open(b1, carol);
  await a.join(r1);
  await b.join(r1); await b.join(r2);
  const d = await c.join(r2);
  assert.deepEqual([...d.presence].sort(), [bob, carol].sort(), 'alice is online in r1, not r2');
  await sleep(300); // presence is coalesced: give a would-be leak time to arrive
  await c.barrier();
  assert.ok(!seen(c).includes(alice), 'carol learned of alice through presence');
  await closeAll(a, b, c);
});

test('rt.remove_member from psql stops delivery at once on every bridge; the removed user can no longer join or read', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a1 = await open(b1, alice), a2 = await open(b2, alice);
  const bob1 = await open(b1, bob), bob2 = await open(b2, bob);
  for (const c of [a1, a2, bob1, bob2]) await c.join(room);
  const pre = await a1.ok({ type: 'send', room, body: 'before removal' });
  for (const c of [bob1, bob2]) await c.waitSeq(room, pre.seq);

  await psql(`SELECT rt.remove_member(${lit(room)}, ${lit(bob)})`);
  const removedSeq = pre.seq + 1;
  // Every event committed after the removal is withheld from bob on both bridges.
  const after1 = await a1.ok({ type: 'send', room, body: 'after removal (b1)' });
  const after2 = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'after removal (psql)')`));
  const after3 = await a2.ok({ type: 'send', room, body: 'after removal (b2)' });
  for (const c of [a1, a2]) await c.waitSeq(room, after3.seq);
  await sleep(200);
  for (const c of [bob1, bob2]) await c.barrier();
  for (const [name, c] of [['bob on b1', bob1], ['bob on b2', bob2]]) {
    const got = c.seqs(room);
    for (const s of [after1.seq, after2.seq, after3.seq]) assert.ok(!got.includes(s), `${name} received seq ${s} after his removal: ${JSON.stringify(got)}`);
    assert.ok(got.every((s) => s <= removedSeq), `${name} got ${JSON.stringify(got)}`);
    assert.ok(!c.log.some((f) => f.room === room && f.seq === undefined && f.event === 'typing'), 'signals still reach him');
  }
  // Signals after the removal are withheld too.
  await a1.ok({ type: 'signal', room, event: 'typing', data: {} });
  await a2.next((f) => f.type === 'event' && f.room === room && f.event === 'typing');
  await sleep(100);
  for (const c of [bob1, bob2]) assert.ok(!c.log.some((f) => f.room === room && f.event === 'typing'), 'typing after removal reached bob');
  // Commands are refused.
  for (const c of [bob1, bob2]) {
    await c.fail({ type: 'send', room, body: 'still here?' }, 'FORBIDDEN');
    await c.fail({ type: 'history', room }, 'FORBIDDEN');
    await c.fail({ type: 'join', room, since: 0 }, 'FORBIDDEN');
  }
  // Presence no longer lists him.
  const probe = await open(b1, alice);
  const d = await probe.join(room);
  assert.ok(!d.presence.includes(bob), `presence still lists the removed user: ${JSON.stringify(d.presence)}`);
  await closeAll(a1, a2, bob1, bob2, probe);
});

test('a member cannot edit or delete another member\'s message; the message is unchanged', async () => {
  const alice = uid('alice'), bob = uid('bob'), carol = uid('carol');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member', [carol]: 'member' } });
  const b = await open(b1, bob), c = await open(b2, carol);
  await b.join(room); await c.join(room);
  const msg = await b.ok({ type: 'send', room, body: 'bob wrote this' });
  await c.fail({ type: 'edit', room, seq: msg.seq, body: 'carol rewrote it' }, 'FORBIDDEN');
  await c.fail({ type: 'delete', room, seq: msg.seq }, 'FORBIDDEN');
  const h = await c.ok({ type: 'history', room, limit: 1 });
  assert.equal(h.events[0].data.body, 'bob wrote this');
  await closeAll(b, c);
});

test('per-user system frames reach only that user, on both bridges', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const a1 = await open(b1, alice), a2 = await open(b2, alice), b = await open(b2, bob);
  const secret = uid('private');
  await psql(`SELECT rt.notify_user(${lit(alice)}, 'private_note', json_build_object('s', ${lit(secret)})::jsonb)`);
  for (const c of [a1, a2]) await c.next((f) => f.type === 'system' && f.event === 'private_note');
  await psql(`SELECT rt.notify_user(${lit(bob)}, 'fence', '{}')`);
  await b.next((f) => f.type === 'system' && f.event === 'fence');
  assert.ok(!seen(b).includes(secret), 'bob received alice\'s per-user frame');
  await closeAll(a1, a2, b);
});

test('viewers read but cannot write; their refused commands store nothing', async () => {
  const alice = uid('alice'), viewer = uid('viewer');
  const room = await makeRoom({ kind: 'conversation', owner: alice, members: { [viewer]: 'viewer' } });
  const v = await open(b1, viewer);
  const d = await v.join(room, { since: 0 });
  assert.equal(d.role ?? 'viewer', 'viewer');
  const before = await eventCount(room);
  await v.fail({ type: 'send', room, body: 'x' }, 'FORBIDDEN');
  await v.fail({ type: 'publish', room, event: 'status', data: {} }, 'FORBIDDEN');
  await v.fail({ type: 'state', room, to: 'LISTENING' }, 'FORBIDDEN');
  await v.fail({ type: 'signal', room, event: 'typing', data: {} }, 'FORBIDDEN');
  await v.ok({ type: 'history', room });
  await v.ok({ type: 'read', room, seq: 1 });
  assert.equal(await eventCount(room), before);
  await closeAll(v);
});

test('removed and added back: the user can join again and receives new events (no stale denial)', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(b1, alice), b = await open(b2, bob);
  await a.join(room); await b.join(room);
  await psql(`SELECT rt.remove_member(${lit(room)}, ${lit(bob)})`);
  await b.fail({ type: 'send', room, body: 'x' }, 'FORBIDDEN');
  await psql(`SELECT rt.add_member(${lit(room)}, ${lit(bob)})`);
  const d = await b.join(room);
  const ev = await a.ok({ type: 'send', room, body: 'welcome back' });
  assert.equal(ev.seq, d.seq + 1);
  await b.waitSeq(room, ev.seq);
  await b.ok({ type: 'send', room, body: 'thanks' });
  await closeAll(a, b);
});

test('a user demoted to viewer keeps reading but can no longer send', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(b1, alice), b = await open(b2, bob);
  await a.join(room); await b.join(room);
  await b.ok({ type: 'send', room, body: 'as member' });
  await psql(`SELECT rt.add_member(${lit(room)}, ${lit(bob)}, 'viewer')`);
  await b.fail({ type: 'send', room, body: 'as viewer' }, 'FORBIDDEN');
  const ev = await a.ok({ type: 'send', room, body: 'for the viewer' });
  await b.waitSeq(room, ev.seq);
  await closeAll(a, b);
});

test('a member removed while a long replay to them is in progress receives nothing committed after the removal', { timeout: 60000 }, async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('z', 3000))) FROM generate_series(1, 2000) g`);
  const b = await open(b1, bob);
  b.send({ type: 'join', room, since: 0, ref: 'j' });
  b.ws.pause(); // the replay (~6 MB) backs up behind a client that does not read yet
  await sleep(300);
  await psql(`SELECT rt.remove_member(${lit(room)}, ${lit(bob)})`);
  const removedAt = await lastSeq(room);
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, 'secret after removal ' || g)) FROM generate_series(1, 5) g`);
  b.ws.resume();
  // Read until the stream goes quiet (or the bridge closes the connection).
  let n = -1;
  await until(async () => { const m = b.log.length; const quiet = m === n; n = m; return quiet || b.ws.readyState > 1; },
    { timeout: 30000, interval: 700, what: 'bob\'s stream to go quiet' });
  const got = b.seqs(room);
  assert.ok(got.every((s) => s <= removedAt), `bob received events after his removal (seq > ${removedAt}): ${JSON.stringify(got.filter((s) => s > removedAt))}`);
  assert.ok(!JSON.stringify(b.log).includes('secret after removal'));
  if (got.length) assertSeqRange(got, 1, got.at(-1), 'what bob got before the removal');
  await closeAll(b);
});

test('errors on a foreign room reveal nothing: the same code and words as for a missing room, whatever check the frame would reach next', async () => {
  const owner = uid('owner'), bob = uid('bob'), mallory = uid('mallory');
  const secret = uid('secret');
  const room = await makeRoom({ kind: 'conversation', owner, members: { [bob]: 'member' } });
  await psql(`SELECT rt.post_message(${lit(room)}, ${lit(bob)}, ${lit(secret)}, client_msg_id => 'bob-1');
              SELECT rt.transition(${lit(room)}, ${lit(owner)}, 'LISTENING')`);
  const head = await lastSeq(room);
  const ghost = uid('room');
  const m = await open(b2, mallory);
  // Each frame is valid on its own; past the membership check it would meet a check that depends on
  // the room (its kind, states, version, latest seq, messages, stored client_msg_ids).
  const frames = [
    { type: 'join', since: 999999 }, { type: 'join', since: head },
    { type: 'state', to: 'SLEEPING' }, { type: 'state', to: 'LISTENING' }, { type: 'state', to: 'PROCESSING', expect: 0 },
    { type: 'state', to: 'ENDED' },
    { type: 'read', seq: 999999 }, { type: 'read', seq: head },
    { type: 'edit', seq: 2, body: 'x' }, { type: 'edit', seq: 4, body: 'x' }, { type: 'edit', seq: 999999, body: 'x' },
    { type: 'delete', seq: 4 }, { type: 'delete', seq: 999999 },
    { type: 'publish', event: 'nope', data: {} }, { type: 'publish', event: 'message', data: {} },
    { type: 'signal', event: 'status', data: {} },
    { type: 'send', body: 'guess', client_msg_id: 'bob-1' },
    { type: 'history', before: 999999, limit: 1000 },
  ];
  for (const f of frames) {
    const e = await m.fail({ ...f, room }, 'FORBIDDEN');
    const e2 = await m.fail({ ...f, room: ghost });
    assert.equal(e2.code, 'FORBIDDEN', `${JSON.stringify(f)} on a missing room: ${JSON.stringify(e2)}`);
    assert.equal(e.message.replaceAll(room, 'R'), e2.message.replaceAll(ghost, 'R'), `${JSON.stringify(f)}: the words tell the rooms apart`);
    const words = e.message.replaceAll(room, 'R').replaceAll(mallory, 'M'); // the ids it was given may appear
    for (const word of [secret, owner, bob, 'conversation', 'LISTENING', 'IDLE', 'version']) {
      assert.ok(!words.includes(word), `${JSON.stringify(f)}: the error reveals "${word}": ${e.message}`);
    }
    assert.doesNotMatch(words, new RegExp(`\\b${head}\\b`), `${JSON.stringify(f)}: the error reveals the latest seq: ${e.message}`);
  }
  await m.barrier();
  assert.ok(!seen(m).includes(secret) && !seen(m).includes(bob), 'mallory learned something of the room');
  assert.equal(await lastSeq(room), head, 'the refused frames changed the room');
  await closeAll(m);
});

test('presence and read signals of a room never reach outsiders on either bridge, nor a removed member', async () => {
  const alice = uid('alice'), bob = uid('bob'), carol = uid('carol'), mallory = uid('mallory');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member', [carol]: 'member' } });
  const a = await open(b1, alice);
  await a.join(room);
  const m1 = await open(b1, mallory), m2 = await open(b2, mallory);
  const bob1 = await open(b1, bob), bob2 = await open(b2, bob);
  await bob1.join(room); await bob2.join(room);
  await a.next((f) => f.event === 'presence' && f.room === room && f.data?.user === bob && f.data?.status === 'joined');
  await psql(`SELECT rt.remove_member(${lit(room)}, ${lit(bob)})`);
  const removed = await lastSeq(room);
  for (const c of [bob1, bob2]) await c.waitSeq(room, removed).catch(() => {}); // member_removed itself may or may not reach him
  // Carol comes and goes on each bridge, reads, types: presence, read and typing signals in the room.
  const c2 = await open(b2, carol);
  await c2.join(room);
  await a.next((f) => f.event === 'presence' && f.room === room && f.data?.user === carol && f.data?.status === 'joined', 10000);
  await c2.ok({ type: 'read', room, seq: removed });
  await c2.ok({ type: 'signal', room, event: 'typing', data: {} });
  await c2.close();
  await a.next((f) => f.event === 'presence' && f.room === room && f.data?.user === carol && f.data?.status === 'left', 10000);
  const c1 = await open(b1, carol);
  await c1.join(room);
  await a.next((f) => f.event === 'presence' && f.room === room && f.data?.user === carol && f.data?.status === 'joined', 10000);
  await a.next((f) => f.event === 'read' && f.room === room && f.data?.user === carol);
  await sleep(300); // presence is coalesced (--presence-interval-ms): give a leak time to arrive
  for (const c of [m1, m2, bob1, bob2]) await c.barrier();
  for (const [name, c] of [['mallory on b1', m1], ['mallory on b2', m2]]) {
    assert.equal(c.log.filter((f) => f.room === room).length, 0, `${name} received frames of the room`);
    assert.ok(!seen(c).includes(carol) && !seen(c).includes(alice), `${name} learned who is in the room`);
  }
  for (const [name, c] of [['bob on b1', bob1], ['bob on b2', bob2]]) {
    assert.ok(!seen(c).includes(carol), `${name} (removed) still sees the room's presence, reads or typing: ` +
      JSON.stringify(c.log.filter((f) => JSON.stringify(f).includes(carol))).slice(0, 300));
  }
  await closeAll(a, m1, m2, bob1, bob2, c1);
});

test('a member\'s refused edit or delete of another\'s message does not echo its body or author', async () => {
  const alice = uid('alice'), bob = uid('bob'), carol = uid('carol');
  const secret = uid('secret');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member', [carol]: 'member' } });
  const c = await open(b1, carol);
  await c.join(room);
  const msg = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(bob)}, ${lit(secret)})`));
  for (const f of [{ type: 'edit', room, seq: msg.seq, body: 'mine now' }, { type: 'delete', room, seq: msg.seq }]) {
    const e = await c.fail(f, 'FORBIDDEN');
    assert.ok(!e.message.includes(secret), `${f.type}: the error echoes the body: ${e.message}`);
  }
  await closeAll(c);
});
