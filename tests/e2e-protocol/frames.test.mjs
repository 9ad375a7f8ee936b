// Every client frame of docs/protocol.md ("Frames"): the success shape, each error it can produce ("Errors" codes and
// retry flags), exactly one reply per ref, reply only after commit, and the sender's own event.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, eventCount, dbEvents, lastSeq, until, jwt,
  checkEvent, checkSignal, checkReply, checkError, within,
} from './lib/proto.mjs';

let bridge;
before(async () => { bridge = await new Bridge().start(); });
after(async () => {
  const status = await bridge.stop();
  assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
});

describe('join', () => {
  test('chat room: reply data has seq, presence (array incl. me), recovered; no events replayed without since', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'before join')`);
    const c = await open(bridge, alice);
    const data = await c.join(room);
    assert.equal(data.seq, 2, 'seq is the room\'s latest (room_created + 1 message)');
    assert.ok(Array.isArray(data.presence), 'presence is an array');
    assert.ok(data.presence.includes(alice), `presence includes the joining user: ${JSON.stringify(data.presence)}`);
    assert.equal(data.recovered, true);
    await c.barrier();
    assert.deepEqual(c.seqs(room), [], 'a join without since replays nothing');
    await closeAll(c);
  });

  test('conversation room: reply has state IDLE and version 0, then follows transitions', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ kind: 'conversation', owner: alice });
    const c = await open(bridge, alice);
    const d = await c.join(room);
    assert.equal(d.state, 'IDLE');
    assert.equal(d.version, 0);
    assert.equal(d.seq, 1);
    await psql(`SELECT rt.transition(${lit(room)}, ${lit(alice)}, 'LISTENING')`);
    const c2 = await open(bridge, alice);
    const d2 = await c2.join(room);
    assert.equal(d2.state, 'LISTENING');
    assert.equal(d2.version, 1);
    assert.equal(d2.seq, 2);
    await closeAll(c, c2);
  });

  test('join with since: 0 replays the whole log in order and recovered is true', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice, members: { [uid('bob')]: 'member' } });
    const c = await open(bridge, alice);
    const d = await c.join(room, { since: 0 });
    assert.equal(d.seq, 2);
    assert.equal(d.recovered, true);
    await c.waitSeq(room, 2);
    assert.deepEqual(c.events(room).map((e) => [e.seq, e.event]), [[1, 'room_created'], [2, 'member_added']]);
    for (const e of c.events(room)) checkEvent(e, { room });
    await closeAll(c);
  });

  test('a nonexistent room and a room I am not a member of are both FORBIDDEN, with the same message', async () => {
    const owner = uid('owner');
    const mallory = uid('mallory');
    const room = await makeRoom({ owner });
    const ghost = uid('room');
    const c = await open(bridge, mallory);
    const e1 = await c.fail({ type: 'join', room }, 'FORBIDDEN');
    const e2 = await c.fail({ type: 'join', room: ghost }, 'FORBIDDEN');
    assert.equal(e1.message.replaceAll(room, 'R'), e2.message.replaceAll(ghost, 'R'), 'messages differ: reveals existence');
    assert.equal(e1.retry, false);
    assert.ok(!e1.message.includes(owner), 'message names the owner');
    await closeAll(c);
  });

  test('bad join fields are BAD_REQUEST: missing room, invalid room id, negative since, string since', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const c = await open(bridge, alice);
    await c.fail({ type: 'join' }, 'BAD_REQUEST');
    await c.fail({ type: 'join', room: 'has space' }, 'BAD_REQUEST');
    await c.fail({ type: 'join', room: 'r'.repeat(65) }, 'BAD_REQUEST');
    await c.fail({ type: 'join', room, since: -1 }, 'BAD_REQUEST');
    await c.fail({ type: 'join', room, since: '3' }, 'BAD_REQUEST');
    await c.fail({ type: 'join', room, since: 1.5 }, 'BAD_REQUEST');
    await closeAll(c);
  });

  test('joining twice is harmless: one reply each, events delivered once', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const c = await open(bridge, alice);
    await c.join(room);
    await c.join(room);
    const ev = await c.ok({ type: 'send', room, body: 'once' });
    await c.waitSeq(room, ev.seq);
    await c.barrier();
    assert.deepEqual(c.seqs(room), [ev.seq], 'the event arrived exactly once');
    await closeAll(c);
  });
});

describe('leave', () => {
  test('reply {} ; no more events of the room afterwards; others see presence left', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room);
    await b.join(room);
    const data = await b.ok({ type: 'leave', room });
    assert.deepEqual(data, {});
    const left = await a.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === bob && f.data?.status === 'left');
    checkSignal(left, { room, event: 'presence' });
    const ev = await a.ok({ type: 'send', room, body: 'after leave' });
    await a.waitSeq(room, ev.seq);
    await b.barrier();
    assert.equal(b.seqs(room).includes(ev.seq), false, 'a left connection still receives the room');
    await closeAll(a, b);
  });

  test('leave without room is BAD_REQUEST', async () => {
    const c = await open(bridge, uid('alice'));
    await c.fail({ type: 'leave' }, 'BAD_REQUEST');
    await c.fail({ type: 'leave', room: 42 }, 'BAD_REQUEST');
    await closeAll(c);
  });
});

describe('send', () => {
  test('reply data is the message event; every joined connection, the sender included, receives it once', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room);
    await b.join(room);
    const ev = await a.ok({ type: 'send', room, body: 'hello', media_url: 'https://example.com/a.png', client_msg_id: 'k1' });
    checkEvent(ev, { room, event: 'message', actor: alice });
    assert.equal(ev.seq, 3, 'room_created, member_added, then this message');
    assert.equal(ev.data.body, 'hello');
    assert.equal(ev.data.media_url, 'https://example.com/a.png');
    assert.equal(ev.data.client_msg_id, 'k1');
    assert.deepEqual(ev.data.meta, {});
    const gotA = await a.next((f) => f.type === 'event' && f.room === room && f.seq === ev.seq);
    const gotB = await b.next((f) => f.type === 'event' && f.room === room && f.seq === ev.seq);
    assert.deepEqual(gotA, ev, 'the sender\'s copy equals the reply data');
    assert.deepEqual(gotB, ev, 'the other member\'s copy equals the reply data');
    await a.barrier(); await b.barrier();
    assert.deepEqual(a.seqs(room), [3]);
    assert.deepEqual(b.seqs(room), [3]);
    await closeAll(a, b);
  });

  test('bodies with quotes, backslashes, control characters, U+2028, astral and combining characters arrive unchanged', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const bodies = ['"quoted" \\ back\\slash /', 'tab\tnew\nline\rcr', 'ctl \u0001\u001f\u007f', 'sep \u2028 \u2029',
      '𝄞 🎉 👩‍👩‍👧 e\u0301', '</script><script>alert(1)</script>', "x'; DROP TABLE rt.events; --", '{"type":"event","seq":999}'];
    for (const body of bodies) {
      const ev = await a.ok({ type: 'send', room, body, meta: { note: body } });
      assert.equal(ev.data.body, body);
      const got = await b.next((f) => f.type === 'event' && f.seq === ev.seq);
      assert.equal(got.data.body, body);
      assert.deepEqual(got, ev);
    }
    assert.equal(await psql(`SELECT to_regclass('rt.events') IS NOT NULL`), 't');
    await closeAll(a, b);
  });

  test('a retry with the same client_msg_id returns the stored event and stores nothing', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const a = await open(bridge, alice);
    await a.join(room);
    const first = await a.ok({ type: 'send', room, body: 'once', client_msg_id: 'retry-1' });
    const again = await a.ok({ type: 'send', room, body: 'once', client_msg_id: 'retry-1' });
    assert.equal(again.seq, first.seq);
    assert.equal(await eventCount(room), 2);
    await closeAll(a);
  });

  test('errors: FORBIDDEN (viewer, non-member), BAD_REQUEST (fields), TOO_LARGE, CONFLICT (ended room); nothing stored', async () => {
    const alice = uid('alice'), viewer = uid('viewer'), mallory = uid('mallory');
    const room = await makeRoom({ owner: alice, members: { [viewer]: 'viewer' } });
    const a = await open(bridge, alice), v = await open(bridge, viewer), m = await open(bridge, mallory);
    await a.join(room);
    await v.join(room);
    const before = await eventCount(room);
    await v.fail({ type: 'send', room, body: 'viewers read only' }, 'FORBIDDEN');
    await m.fail({ type: 'send', room, body: 'not a member' }, 'FORBIDDEN');
    await a.fail({ type: 'send', room }, 'BAD_REQUEST');
    await a.fail({ type: 'send', room, body: 7 }, 'BAD_REQUEST');
    await a.fail({ type: 'send', room, body: '' }, 'BAD_REQUEST');
    await a.fail({ type: 'send', room, body: 'x', media_url: 'javascript:alert(1)' }, 'BAD_REQUEST');
    await a.fail({ type: 'send', room, body: 'x', client_msg_id: 5 }, 'BAD_REQUEST');
    await a.fail({ type: 'send', room, body: 'y'.repeat(70 * 1024) }, 'TOO_LARGE');
    assert.equal(await eventCount(room), before, 'a failed send stored something');
    await psql(`SELECT rt.end_room(${lit(room)}, ${lit(alice)})`);
    await a.waitSeq(room, before + 1);
    await a.fail({ type: 'send', room, body: 'after the end' }, 'CONFLICT');
    assert.equal(await eventCount(room), before + 1);
    await closeAll(a, v, m);
  });
});

describe('publish', () => {
  test('owner and service publish ai_response; everyone joined receives it', async () => {
    const alice = uid('alice'), bot = uid('bot'), bob = uid('bob');
    const room = await makeRoom({ kind: 'conversation', owner: alice, members: { [bot]: 'service', [bob]: 'member' } });
    const s = await open(bridge, bot), b = await open(bridge, bob);
    await s.join(room);
    await b.join(room);
    const ev = await s.ok({ type: 'publish', room, event: 'ai_response', data: { text: 'hi', n: [1, 2] } });
    checkEvent(ev, { room, event: 'ai_response', actor: bot });
    assert.deepEqual(ev.data, { text: 'hi', n: [1, 2] });
    assert.deepEqual(await b.next((f) => f.type === 'event' && f.seq === ev.seq), ev);
    assert.deepEqual(await s.next((f) => f.type === 'event' && f.seq === ev.seq), ev);
    await closeAll(s, b);
  });

  test('errors: FORBIDDEN for a member; BAD_REQUEST for unknown, system and signal names and non-object data; nothing stored', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const before = await eventCount(room);
    await b.fail({ type: 'publish', room, event: 'ai_response', data: {} }, 'FORBIDDEN');
    await a.fail({ type: 'publish', room, event: 'no_such_event', data: {} }, 'BAD_REQUEST');
    await a.fail({ type: 'publish', room, event: 'message', data: {} }, 'BAD_REQUEST');
    await a.fail({ type: 'publish', room, event: 'typing', data: {} }, 'BAD_REQUEST');
    await a.fail({ type: 'publish', room, event: 'status', data: [1] }, 'BAD_REQUEST');
    await a.fail({ type: 'publish', room, event: 'status' }, 'BAD_REQUEST');
    await a.fail({ type: 'publish', room, event: 'Bad Name!', data: {} }, 'BAD_REQUEST');
    await a.fail({ type: 'publish', room, event: 'status', data: { big: 'z'.repeat(70 * 1024) } }, 'TOO_LARGE');
    assert.equal(await eventCount(room), before);
    await closeAll(a, b);
  });
});

describe('signal', () => {
  test('typing reaches the other members (and the sender) without seq; nothing stored; reply only with a ref', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const before = await eventCount(room);
    const data = await b.ok({ type: 'signal', room, event: 'typing', data: { on: true } });
    assert.deepEqual(data, {});
    const sig = await a.next((f) => f.type === 'event' && f.room === room && f.event === 'typing');
    checkSignal(sig, { room, event: 'typing', actor: bob });
    assert.deepEqual(sig.data, { on: true });
    const own = await b.next((f) => f.type === 'event' && f.room === room && f.event === 'typing');
    checkSignal(own, { room, event: 'typing', actor: bob });
    // Without ref: delivered, no reply.
    b.send({ type: 'signal', room, event: 'transcript_interim', data: { text: 'hel' } });
    const s2 = await a.next((f) => f.type === 'event' && f.room === room && f.event === 'transcript_interim');
    checkSignal(s2, { actor: bob });
    await b.barrier();
    assert.equal(b.log.filter((f) => f.type === 'reply' || f.type === 'error').length, 2,
      `only the ref'd signal and the two joins got replies: ${JSON.stringify(b.log.filter((f) => f.type === 'reply' || f.type === 'error'))}`);
    assert.equal(await eventCount(room), before, 'a signal was stored');
    await closeAll(a, b);
  });

  test('errors: BAD_REQUEST persisted/unknown name, FORBIDDEN viewer/non-member, TOO_LARGE over 7999 bytes', async () => {
    const alice = uid('alice'), viewer = uid('viewer'), mallory = uid('mallory');
    const room = await makeRoom({ owner: alice, members: { [viewer]: 'viewer' } });
    const a = await open(bridge, alice), v = await open(bridge, viewer), m = await open(bridge, mallory);
    await a.join(room); await v.join(room);
    await a.fail({ type: 'signal', room, event: 'status', data: {} }, 'BAD_REQUEST');
    await a.fail({ type: 'signal', room, event: 'nope', data: {} }, 'BAD_REQUEST');
    await a.fail({ type: 'signal', room, event: 'typing', data: 'x' }, 'BAD_REQUEST');
    await v.fail({ type: 'signal', room, event: 'typing', data: {} }, 'FORBIDDEN');
    await m.fail({ type: 'signal', room, event: 'typing', data: {} }, 'FORBIDDEN');
    await a.fail({ type: 'signal', room, event: 'typing', data: { pad: 'p'.repeat(9000) } }, 'TOO_LARGE');
    await a.barrier();
    assert.equal(a.signals(room, 'typing').length, 0, 'a refused signal was delivered');
    await closeAll(a, v, m);
  });

  test('a failing signal without ref gets an error frame (no usable ref)', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const a = await open(bridge, alice);
    await a.join(room);
    a.send({ type: 'signal', room, event: 'status', data: {} });
    const err = await a.next((f) => f.type === 'error');
    checkError(err);
    assert.equal(err.code, 'BAD_REQUEST');
    await closeAll(a);
  });
});

describe('state', () => {
  test('accepted transition: state event with from/to/version; version follows; expect checked', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ kind: 'conversation', owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const ev = await b.ok({ type: 'state', room, to: 'LISTENING', expect: 0 });
    checkEvent(ev, { room, event: 'state', actor: bob });
    assert.deepEqual(ev.data, { from: 'IDLE', to: 'LISTENING', version: 1 });
    assert.deepEqual(await a.next((f) => f.type === 'event' && f.seq === ev.seq), ev);
    const ev2 = await b.ok({ type: 'state', room, to: 'PROCESSING' });
    assert.deepEqual(ev2.data, { from: 'LISTENING', to: 'PROCESSING', version: 2 });
    await closeAll(a, b);
  });

  test('errors: CONFLICT stale expect, INVALID_TRANSITION (disallowed, same state, chat room), BAD_REQUEST unknown state, FORBIDDEN viewer', async () => {
    const alice = uid('alice'), viewer = uid('viewer');
    const room = await makeRoom({ kind: 'conversation', owner: alice, members: { [viewer]: 'viewer' } });
    const chat = await makeRoom({ owner: alice });
    const a = await open(bridge, alice), v = await open(bridge, viewer);
    await a.join(room); await a.join(chat); await v.join(room);
    const before = await eventCount(room);
    await a.fail({ type: 'state', room, to: 'LISTENING', expect: 5 }, 'CONFLICT');
    await a.fail({ type: 'state', room, to: 'SPEAKING' }, 'INVALID_TRANSITION');
    await a.fail({ type: 'state', room, to: 'IDLE' }, 'INVALID_TRANSITION');
    await a.fail({ type: 'state', room: chat, to: 'LISTENING' }, 'INVALID_TRANSITION');
    await a.fail({ type: 'state', room, to: 'NOPE' }, 'BAD_REQUEST');
    await a.fail({ type: 'state', room }, 'BAD_REQUEST');
    await a.fail({ type: 'state', room, to: 'LISTENING', expect: 'zero' }, 'BAD_REQUEST');
    await v.fail({ type: 'state', room, to: 'LISTENING' }, 'FORBIDDEN');
    assert.equal(await eventCount(room), before);
    await closeAll(a, v);
  });

  test('ENDED ends the room: room_ended event; further writes are CONFLICT', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ kind: 'conversation', owner: alice });
    const a = await open(bridge, alice);
    await a.join(room);
    const ev = await a.ok({ type: 'state', room, to: 'ENDED' });
    checkEvent(ev, { room, event: 'room_ended' });
    await a.fail({ type: 'state', room, to: 'IDLE' }, 'CONFLICT');
    await a.fail({ type: 'send', room, body: 'late' }, 'CONFLICT');
    // An ended room stays readable: join (state ENDED), replay, history, read.
    const late = await open(bridge, alice);
    const d = await late.join(room, { since: 0 });
    assert.equal(d.state, 'ENDED');
    assert.equal(d.seq, ev.seq);
    await late.waitSeq(room, ev.seq);
    assert.equal((await late.ok({ type: 'history', room })).events.at(-1).event, 'room_ended');
    await late.ok({ type: 'read', room, seq: ev.seq });
    await closeAll(a, late);
  });
});

describe('edit and delete', () => {
  test('author edits and deletes: message_edited {seq, body}, message_deleted {seq}; both delivered', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const msg = await b.ok({ type: 'send', room, body: 'tpyo' });
    const ed = await b.ok({ type: 'edit', room, seq: msg.seq, body: 'typo' });
    checkEvent(ed, { room, event: 'message_edited', actor: bob });
    assert.equal(ed.data.seq, msg.seq);
    assert.equal(ed.data.body, 'typo');
    assert.deepEqual(await a.next((f) => f.type === 'event' && f.seq === ed.seq), ed);
    const del = await b.ok({ type: 'delete', room, seq: msg.seq });
    checkEvent(del, { room, event: 'message_deleted', actor: bob });
    assert.equal(del.data.seq, msg.seq);
    assert.deepEqual(await a.next((f) => f.type === 'event' && f.seq === del.seq), del);
    await closeAll(a, b);
  });

  test('the owner may edit and delete others\' messages', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const msg = await b.ok({ type: 'send', room, body: 'rude' });
    await a.ok({ type: 'edit', room, seq: msg.seq, body: '[moderated]' });
    await a.ok({ type: 'delete', room, seq: msg.seq });
    await closeAll(a, b);
  });

  test('errors: FORBIDDEN (not author), NOT_FOUND (no such message, not a message, deleted twice), BAD_REQUEST (fields)', async () => {
    const alice = uid('alice'), bob = uid('bob'), carol = uid('carol');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member', [carol]: 'member' } });
    const b = await open(bridge, bob), c = await open(bridge, carol);
    await b.join(room); await c.join(room);
    const msg = await b.ok({ type: 'send', room, body: 'mine' });
    const before = await eventCount(room);
    await c.fail({ type: 'edit', room, seq: msg.seq, body: 'yours now' }, 'FORBIDDEN');
    await c.fail({ type: 'delete', room, seq: msg.seq }, 'FORBIDDEN');
    await b.fail({ type: 'edit', room, seq: 9999, body: 'x' }, 'NOT_FOUND');
    await b.fail({ type: 'edit', room, seq: 1, body: 'x' }, 'NOT_FOUND');
    await b.fail({ type: 'delete', room, seq: 9999 }, 'NOT_FOUND');
    await b.fail({ type: 'edit', room, seq: msg.seq }, 'BAD_REQUEST');
    await b.fail({ type: 'edit', room, seq: String(msg.seq), body: 'x' }, 'BAD_REQUEST');
    await b.fail({ type: 'delete', room }, 'BAD_REQUEST');
    await b.fail({ type: 'edit', room, seq: msg.seq, body: 'w'.repeat(70 * 1024) }, 'TOO_LARGE');
    assert.equal(await eventCount(room), before, 'a failed edit/delete stored something');
    await b.ok({ type: 'delete', room, seq: msg.seq });
    await b.fail({ type: 'delete', room, seq: msg.seq }, 'NOT_FOUND');
    await b.fail({ type: 'edit', room, seq: msg.seq, body: 'resurrect' }, 'NOT_FOUND');
    await closeAll(b, c);
  });
});

describe('read', () => {
  test('read with ref replies {}; others get a read signal {user, seq}; without ref no reply', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const a = await open(bridge, alice), b = await open(bridge, bob);
    await a.join(room); await b.join(room);
    const msg = await a.ok({ type: 'send', room, body: 'read me' });
    assert.deepEqual(await b.ok({ type: 'read', room, seq: msg.seq - 1 }), {});
    const sig = await a.next((f) => f.type === 'event' && f.room === room && f.event === 'read' && f.data?.seq === msg.seq - 1);
    checkSignal(sig, { room, event: 'read' });
    assert.equal(sig.data.user, bob);
    b.send({ type: 'read', room, seq: msg.seq });
    await a.next((f) => f.type === 'event' && f.room === room && f.event === 'read' && f.data?.seq === msg.seq);
    await b.barrier();
    assert.equal(b.log.filter((f) => f.type === 'reply' || f.type === 'error').length, 2, 'join + read with ref; the ref-less read got a reply');
    assert.equal(Number(await psql(`SELECT last_read_seq FROM rt.members WHERE room = ${lit(room)} AND user_id = ${lit(bob)}`)), msg.seq);
    await closeAll(a, b);
  });

  test('errors: BAD_REQUEST seq beyond latest / negative / not integer; FORBIDDEN non-member', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const a = await open(bridge, alice), m = await open(bridge, uid('mallory'));
    await a.join(room);
    await a.fail({ type: 'read', room, seq: 99 }, 'BAD_REQUEST');
    await a.fail({ type: 'read', room, seq: -1 }, 'BAD_REQUEST');
    await a.fail({ type: 'read', room, seq: 'one' }, 'BAD_REQUEST');
    await a.fail({ type: 'read', room }, 'BAD_REQUEST');
    await m.fail({ type: 'read', room, seq: 1 }, 'FORBIDDEN');
    await closeAll(a, m);
  });
});

describe('history', () => {
  let alice, room, a;
  before(async () => {
    alice = uid('alice');
    room = await makeRoom({ owner: alice });
    // 1 room_created + 79 messages = seq 1..80.
    await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'm' || g) FROM generate_series(1, 79) g`);
    a = await open(bridge, alice);
    await a.join(room);
  });
  after(() => closeAll(a));

  test('default: the newest 50, ascending', async () => {
    const d = await a.ok({ type: 'history', room });
    assert.ok(Array.isArray(d.events));
    assert.deepEqual(d.events.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => 31 + i));
    for (const e of d.events) checkEvent(e, { room });
    assert.equal(d.events.at(-1).data.body, 'm79');
  });

  test('before and limit: the newest `limit` with seq < before, ascending', async () => {
    const d = await a.ok({ type: 'history', room, before: 40, limit: 5 });
    assert.deepEqual(d.events.map((e) => e.seq), [35, 36, 37, 38, 39]);
    const d2 = await a.ok({ type: 'history', room, before: 3, limit: 10 });
    assert.deepEqual(d2.events.map((e) => e.seq), [1, 2]);
    const d3 = await a.ok({ type: 'history', room, limit: 1000 });
    assert.equal(d3.events.length, 80);
    const d4 = await a.ok({ type: 'history', room, before: 1 });
    assert.deepEqual(d4.events, []);
  });

  test('history reply equals rt.history', async () => {
    const d = await a.ok({ type: 'history', room, before: 60, limit: 7 });
    const sql = JSON.parse(await psql(`SELECT json_agg(h) FROM rt.history(${lit(room)}, 60, 7) h`));
    assert.deepEqual(d.events, sql);
  });

  test('errors: BAD_REQUEST limit 0 / 1001 / string, before negative; FORBIDDEN non-member and nonexistent room', async () => {
    await a.fail({ type: 'history', room, limit: 0 }, 'BAD_REQUEST');
    await a.fail({ type: 'history', room, limit: 1001 }, 'BAD_REQUEST');
    await a.fail({ type: 'history', room, limit: '5' }, 'BAD_REQUEST');
    await a.fail({ type: 'history', room, before: -1 }, 'BAD_REQUEST');
    await a.fail({ type: 'history' }, 'BAD_REQUEST');
    const m = await open(bridge, uid('mallory'));
    const e1 = await m.fail({ type: 'history', room }, 'FORBIDDEN');
    const ghost = uid('room');
    const e2 = await m.fail({ type: 'history', room: ghost }, 'FORBIDDEN');
    assert.equal(e1.message.replaceAll(room, 'R'), e2.message.replaceAll(ghost, 'R'));
    await closeAll(m);
  });
});

describe('auth', () => {
  test('a fresh token for the same user is accepted', async () => {
    const alice = uid('alice');
    const c = await open(bridge, alice);
    const d = await c.ok({ type: 'auth', token: jwt.token(alice, { ttl: 7200 }) });
    assert.equal(typeof d, 'object');
    await closeAll(c);
  });

  test('another user\'s token, a bad signature, an expired token, alg none: UNAUTHORIZED; identity unchanged', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const c = await open(bridge, alice);
    await c.join(room);
    await c.fail({ type: 'auth', token: jwt.token(uid('eve')) }, 'UNAUTHORIZED');
    await c.fail({ type: 'auth', token: jwt.hs256(jwt.claims({ sub: alice }), 'wrong-secret') }, 'UNAUTHORIZED');
    await c.fail({ type: 'auth', token: jwt.hs256(jwt.claims({ sub: alice, ttl: -10 })) }, 'UNAUTHORIZED');
    await c.fail({ type: 'auth', token: jwt.unsigned(jwt.claims({ sub: alice })) }, 'UNAUTHORIZED');
    await c.fail({ type: 'auth', token: 'garbage' }, 'UNAUTHORIZED');
    const ev = await c.ok({ type: 'send', room, body: 'still me' });
    assert.equal(ev.actor, alice);
    await closeAll(c);
  });

  test('auth without token is refused (BAD_REQUEST or UNAUTHORIZED); without ref gets an error frame', async () => {
    const c = await open(bridge, uid('alice'));
    const e = await c.fail({ type: 'auth' });
    assert.ok(['BAD_REQUEST', 'UNAUTHORIZED'].includes(e.code), e.code);
    c.send({ type: 'auth', token: jwt.token(c.user) });
    const err = await c.next((f) => f.type === 'error');
    checkError(err);
    assert.equal(err.code, 'BAD_REQUEST');
    await closeAll(c);
  });
});

describe('ping', () => {
  test('pong with and without ref', async () => {
    const c = await open(bridge, uid('alice'));
    c.send({ type: 'ping', ref: 'p-1' });
    assert.deepEqual(await c.next((f) => f.type === 'pong'), { type: 'pong', ref: 'p-1' });
    c.send({ type: 'ping' });
    const p = await c.next((f) => f.type === 'pong');
    assert.equal(p.ref, undefined);
    await closeAll(c);
  });
});

describe('replies', () => {
  test('exactly one reply per ref, over 60 mixed commands in flight at once', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ kind: 'conversation', owner: alice });
    const c = await open(bridge, alice);
    await c.join(room);
    const frames = [];
    for (let i = 0; i < 60; i++) {
      const kind = i % 6;
      const ref = `multi-${i}`;
      if (kind === 0) frames.push({ type: 'send', room, ref, body: `m${i}` });
      else if (kind === 1) frames.push({ type: 'history', room, ref, limit: 3 });
      else if (kind === 2) frames.push({ type: 'send', room, ref, body: '' }); // BAD_REQUEST
      else if (kind === 3) frames.push({ type: 'ping', ref });
      else if (kind === 4) frames.push({ type: 'join', room: uid('ghost'), ref }); // FORBIDDEN
      else frames.push({ type: 'signal', room, ref, event: 'typing', data: {} });
    }
    for (const f of frames) c.send(f);
    await until(() => frames.every((f) => c.log.some((x) => (x.type === 'reply' || x.type === 'pong') && x.ref === f.ref)),
      { timeout: 10000, what: 'a reply for every ref' });
    await c.ok({ type: 'history', room, limit: 1 }); // a later command: earlier duplicates would be here by now
    await c.barrier();
    for (const f of frames) {
      const n = c.log.filter((x) => (x.type === 'reply' || x.type === 'pong') && x.ref === f.ref).length;
      assert.equal(n, 1, `ref ${f.ref} (${f.type}) got ${n} replies`);
    }
    const sends = c.log.filter((x) => x.type === 'reply' && x.ok && /^multi-/.test(x.ref) && frames[Number(x.ref.slice(6))].type === 'send');
    assert.equal(sends.length, 10);
    assert.equal(await eventCount(room), 11, 'room_created + the 10 valid sends');
  });

  test('reply comes only after commit: with the room row locked from psql, the reply waits, and the event is in rt.events when it arrives', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const other = await makeRoom({ owner: alice });
    const c = await open(bridge, alice);
    await c.join(room);
    await c.join(other);
    const holdMs = 1500;
    const locker = spawn('psql', ['-X', '-At', '-c',
      `BEGIN; SELECT 1 FROM rt.rooms WHERE id = ${lit(room)} FOR UPDATE; SELECT pg_sleep(${holdMs / 1000}); COMMIT;`]);
    const lockerDone = new Promise((r) => locker.on('exit', r));
    await until(async () => Number(await psql(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(${holdMs / 1000})%' AND state = 'active' AND pid <> pg_backend_pid()`)) === 1,
      { what: 'the locking psql to hold the row' });
    const t0 = Date.now();
    const pending = c.request({ type: 'send', room, body: 'waits for the lock' }, 10000);
    // Another connection is not stalled by the locked room. (One connection's own commands commit
    // in the order it sent them, so they may wait for each other; other connections never do.)
    const c2 = await open(bridge, alice);
    await c2.join(other);
    const quick = await c2.ok({ type: 'send', room: other, body: 'not stalled' });
    const tQuick = Date.now() - t0;
    const r = await pending;
    const tReply = Date.now() - t0;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(await eventCount(room), 2, 'the event is committed when the reply has arrived');
    assert.equal(Number(await psql(`SELECT count(*) FROM rt.events WHERE room = ${lit(room)} AND seq = ${r.data.seq}`)), 1);
    await lockerDone;
    assert.ok(tReply >= holdMs - 400, `the reply came after ${tReply} ms although the room was locked for ~${holdMs} ms`);
    assert.ok(tQuick < tReply, `a command of another connection waited for the locked room (${tQuick} ms vs ${tReply} ms)`);
    assert.equal(quick.room, other);
    await closeAll(c, c2);
  });

  test('a psql rt.post_message reaches the joined client with the same wire shape as rt\'s return value', async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const c = await open(bridge, alice);
    await c.join(room);
    const sqlEv = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'from psql', meta => '{"k":1}')`));
    const got = await c.next((f) => f.type === 'event' && f.seq === sqlEv.seq);
    assert.deepEqual(got, sqlEv);
    // member_added and room_ended from SQL, too.
    await psql(`SELECT rt.add_member(${lit(room)}, ${lit(uid('bob'))})`);
    const added = await c.next((f) => f.type === 'event' && f.event === 'member_added');
    checkEvent(added, { room, event: 'member_added' });
    await closeAll(c);
  });

  test('system frames: rt.notify_user reaches every connection of that user only; rt.broadcast reaches everyone', async () => {
    const alice = uid('alice'), bob = uid('bob');
    const a1 = await open(bridge, alice), a2 = await open(bridge, alice), b = await open(bridge, bob);
    await psql(`SELECT rt.notify_user(${lit(alice)}, 'note', '{"x":1}')`);
    for (const c of [a1, a2]) {
      const f = await c.next((x) => x.type === 'system' && x.event === 'note');
      assert.deepEqual(f.data, { x: 1 });
    }
    const tag = uid('bc');
    await psql(`SELECT rt.broadcast('announce', json_build_object('tag', ${lit(tag)})::jsonb)`);
    for (const c of [a1, a2, b]) await c.next((x) => x.type === 'system' && x.event === 'announce' && x.data?.tag === tag);
    await b.barrier();
    assert.equal(b.log.some((x) => x.type === 'system' && x.event === 'note'), false, 'bob received alice\'s per-user frame');
    await closeAll(a1, a2, b);
  });
});
