// The client library's reconnect, resume, queue and close-code logic, against a scripted bridge
// (lib/fake-bridge.mjs) that misbehaves on cue. No database needed. Run: node --test tests/browser/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connect, PgrtError, backoffDelay, tokenExpiry } from '../../web/pgrt.js';
import { FakeBridge, event } from './lib/fake-bridge.mjs';
import { token } from '../e2e/lib/jwt.mjs';
import { until, sleep, freePort } from '../e2e/lib/bridge.mjs';

const R = 'room-1';
const cleanup = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()(); });

async function fake(port) {
  const f = await new FakeBridge().start(port);
  cleanup.push(() => f.stop());
  return f;
}

function client(url, opts = {}) {
  const c = connect({ url, token: token('alice'), WebSocket, backoffInitial: 40, backoffMax: 200, timeout: 2000, ...opts });
  cleanup.push(() => c.close());
  return c;
}

function record(room) {
  const seen = [];
  room.on('event', (ev) => seen.push(ev.seq));
  return seen;
}

test('backoff grows, is capped and jittered; tokenExpiry reads exp', () => {
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(i, 100, 1000);
    assert.ok(d >= Math.min(1000, 100 * 2 ** i) / 2 && d <= Math.min(1000, 100 * 2 ** i), `attempt ${i}: ${d}`);
  }
  assert.equal(tokenExpiry(token('alice', { exp: 1234567890 })), 1234567890);
  assert.equal(tokenExpiry('garbage'), null);
});

test('bad arguments are refused at once', () => {
  assert.throws(() => connect({ url: 'ws://x/ws', WebSocket }), TypeError);
  assert.throws(() => connect({ url: 'http://x/ws', token: 't', WebSocket }), TypeError);
  const c = client('ws://127.0.0.1:1/ws');
  assert.throws(() => c.join('bad room id!'), TypeError);
  assert.throws(() => c.join('r', { since: -1 }), TypeError);
});

test('events are delivered once, in order; a gap is filled from history first', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const seen = record(room);
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0);
  await room.ready;
  p.send(event(R, 1));
  p.send(event(R, 2));
  p.send(event(R, 4)); // 3 is missing
  p.send(event(R, 2)); // a duplicate
  const h = await p.next((fr) => fr.type === 'history');
  assert.deepEqual({ before: h.before, limit: h.limit }, { before: 4, limit: 1 });
  p.send(event(R, 5)); // arrives while the gap is being filled
  p.reply(h, { events: [event(R, 3)] });
  await until(() => seen.length === 5, { what: 'five events' });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(room.lastSeq, 5);
});

test('a gap fill whose history page was cut by the byte budget (more: true) pages on instead of reporting a gap', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const seen = record(room);
  const gaps = [];
  room.on('gap', (g) => gaps.push(g));
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0);
  await room.ready;
  p.send(event(R, 1));
  p.send(event(R, 6)); // 2..5 are missing
  const h1 = await p.next((fr) => fr.type === 'history');
  assert.deepEqual({ before: h1.before, limit: h1.limit }, { before: 6, limit: 4 });
  p.reply(h1, { events: [event(R, 4), event(R, 5)], more: true }); // two fit the budget
  const h2 = await p.next((fr) => fr.type === 'history');
  assert.deepEqual({ before: h2.before, limit: h2.limit }, { before: 4, limit: 2 });
  p.reply(h2, { events: [event(R, 2), event(R, 3)], more: true });
  await until(() => seen.length === 6, { what: 'six events' });
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(gaps, []);
  const page = await Promise.all([room.historyPage({ limit: 3 }), p.next((fr) => fr.type === 'history')
    .then((h) => p.reply(h, { events: [event(R, 5), event(R, 6)], more: true }))]);
  assert.deepEqual(page[0].events.map((e) => e.seq), [5, 6]);
  assert.equal(page[0].more, true);
});

test('a gap that history cannot fill (pruned) is reported, then delivery goes on', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R, { since: 0 });
  const seen = record(room);
  const gaps = [];
  room.on('gap', (g) => gaps.push(g));
  const p = await f.connection();
  p.welcome();
  const join = await p.acceptJoin(R, 10, { recovered: false });
  assert.equal(join.since, 0);
  p.send(event(R, 8));
  const h = await p.next((fr) => fr.type === 'history');
  p.reply(h, { events: [] });
  p.send(event(R, 9));
  p.send(event(R, 10));
  await until(() => seen.length === 3, { what: 'three events' });
  assert.deepEqual(seen, [8, 9, 10]);
  assert.deepEqual(gaps, [{ after: 0, before: 8 }]);
});

test('4008: reconnects at once and rejoins with since = last delivered; replayed duplicates are dropped', async () => {
  const f = await fake();
  const c = client(f.url);
  const statuses = [];
  c.on('status', (s) => statuses.push(s));
  const room = c.join(R);
  const seen = record(room);
  const p1 = await f.connection();
  p1.welcome();
  await p1.acceptJoin(R, 0);
  p1.send(event(R, 1));
  p1.send(event(R, 2));
  await until(() => seen.length === 2);
  p1.close(4008, 'too slow');
  const p2 = await f.connection();
  p2.welcome();
  const join = await p2.acceptJoin(R, 3);
  assert.equal(join.since, 2);
  p2.send(event(R, 2));
  p2.send(event(R, 3));
  await until(() => seen.length === 3);
  await sleep(50);
  assert.deepEqual(seen, [1, 2, 3]);
  const rec = statuses.find((s) => s.status === 'reconnecting');
  assert.equal(rec.code, 4008);
  assert.ok(rec.delay <= 250, `resumes at once, not after ${rec.delay} ms`);
});

test('sends made offline are queued and written after the join, in order', async () => {
  const port = await freePort(); // nothing listens yet: the client keeps retrying
  const c = client(`ws://127.0.0.1:${port}/ws`);
  const room = c.join(R);
  const sends = ['one', 'two', 'three'].map((body) => room.send(body));
  await sleep(150);
  assert.equal(c.queued, 3);
  const f = await fake(port);
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0);
  const bodies = [];
  for (let i = 0; i < 3; i++) {
    const s = await p.next((fr) => fr.type === 'send');
    bodies.push(s.body);
    assert.equal(typeof s.client_msg_id, 'string');
    p.reply(s, event(R, i + 1, { data: { body: s.body, client_msg_id: s.client_msg_id } }));
  }
  assert.deepEqual(bodies, ['one', 'two', 'three']);
  assert.deepEqual((await Promise.all(sends)).map((e) => e.seq), [1, 2, 3]);
});

test('a send cut by a disconnect is written again with the same client_msg_id; a publish fails with unknownOutcome', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const p1 = await f.connection();
  p1.welcome();
  await p1.acceptJoin(R, 0);
  const sent = room.send('hello');
  const published = room.publish('status', { stage: 'x' });
  const first = await p1.next((fr) => fr.type === 'send');
  await p1.next((fr) => fr.type === 'publish');
  p1.kill();
  await assert.rejects(published, (e) => e instanceof PgrtError && e.code === 'DISCONNECTED' && e.unknownOutcome);
  const p2 = await f.connection();
  p2.welcome();
  await p2.acceptJoin(R, 0);
  const again = await p2.next((fr) => fr.type === 'send');
  assert.equal(again.client_msg_id, first.client_msg_id);
  assert.equal(again.body, 'hello');
  p2.reply(again, event(R, 1));
  assert.equal((await sent).seq, 1);
});

test('a retry:true error is retried for idempotent commands only', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0);
  const history = room.history({ limit: 5 });
  p.fail(await p.next((fr) => fr.type === 'history'), 'UNAVAILABLE', 'database unreachable', true);
  p.reply(await p.next((fr) => fr.type === 'history'), { events: [event(R, 1)] });
  assert.equal((await history).length, 1);
  const state = room.state('LISTENING', 0);
  p.fail(await p.next((fr) => fr.type === 'state'), 'UNAVAILABLE', 'database unreachable', true);
  await assert.rejects(state, { code: 'UNAVAILABLE', retry: true });
});

test('replies time out with TIMEOUT', async () => {
  const f = await fake();
  const c = client(f.url, { timeout: 200 });
  const room = c.join(R);
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0);
  await assert.rejects(room.edit(1, 'x'), { code: 'TIMEOUT', unknownOutcome: true });
});

test('the token goes in the first frame by default, never in the URL; tokenIn: query puts it in the URL', async () => {
  const f = await fake();
  const jwt = token('alice');
  const c = client(f.url, { token: jwt });
  const p = await f.connection();
  assert.equal(p.ws.protocol, 'pgrt.auth');
  assert.equal(p.url.search, '', 'no query string at all');
  assert.deepEqual(p.authFrame, { type: 'auth', token: jwt });
  p.welcome();
  p.kill(); // a reconnect authenticates the same way
  const p2 = await f.connection();
  assert.equal(p2.url.search, '');
  assert.deepEqual(p2.authFrame, { type: 'auth', token: jwt });
  c.close();

  const q = client(f.url, { token: jwt, tokenIn: 'query' });
  const pq = await f.connection();
  assert.equal(pq.ws.protocol, '', 'no subprotocol asked for');
  assert.equal(pq.url.searchParams.get('token'), jwt);
  assert.equal(pq.authFrame, null);
  q.close();
  assert.throws(() => connect({ url: f.url, token: jwt, WebSocket, tokenIn: 'header' }), TypeError);
});

test('4001 with getToken: a fresh token before reconnecting; without it: closed, commands fail', async () => {
  const f = await fake();
  let calls = 0;
  const c = client(f.url, { getToken: async () => token(`alice${++calls}`) });
  const p1 = await f.connection();
  p1.welcome();
  p1.close(4001, 'token expired');
  const p2 = await f.connection();
  assert.equal(calls, 1);
  assert.equal(JSON.parse(Buffer.from(p2.token.split('.')[1], 'base64url')).sub, 'alice1');

  const g = await fake();
  const d = client(g.url);
  const closed = new Promise((resolve) => d.on('status', (s) => s.status === 'closed' && resolve(s)));
  const room = d.join(R);
  const q = await g.connection();
  q.welcome();
  const pending = room.send('never');
  q.close(4001, 'token expired');
  assert.equal((await closed).code, 4001);
  await assert.rejects(pending, { code: 'UNAUTHORIZED' });
});

test('4029 backs off for at least rateLimitedDelay', async () => {
  const f = await fake();
  const c = client(f.url, { rateLimitedDelay: 700 });
  const rec = new Promise((resolve) => c.on('status', (s) => s.status === 'reconnecting' && resolve(s)));
  const p = await f.connection();
  p.welcome();
  p.close(4029, 'rate limit');
  const s = await rec;
  assert.equal(s.code, 4029);
  assert.ok(s.delay >= 700, `delay ${s.delay}`);
});

test('1001 (bridge shutting down): reconnects to the next URL and resumes', async () => {
  const [a, b] = [await fake(), await fake()];
  const c = client([a.url, b.url]);
  const room = c.join(R);
  const seen = record(room);
  const pa = await a.connection();
  pa.welcome();
  await pa.acceptJoin(R, 0);
  pa.send(event(R, 1));
  await until(() => seen.length === 1);
  pa.send({ type: 'system', event: 'shutdown', data: {} });
  pa.close(1001, 'bridge shutting down');
  const pb = await b.connection();
  pb.welcome();
  assert.equal((await pb.acceptJoin(R, 1)).since, 1);
});

test('a join refused with FORBIDDEN rejects ready, fails queued commands, and is not retried', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const queued = room.send('x');
  const p = await f.connection();
  p.welcome();
  p.fail(await p.next((fr) => fr.type === 'join'), 'FORBIDDEN', 'alice is not a member of room room-1');
  await assert.rejects(room.ready, { code: 'FORBIDDEN' });
  await assert.rejects(queued, { code: 'FORBIDDEN' });
  assert.equal(c.rooms.has(R), false);
});

test('typing is throttled when sent; typers expire when received; presence and presence_batch keep the set', async () => {
  const f = await fake();
  const c = client(f.url, { typingInterval: 10000, typingExpiry: 150 });
  const room = c.join(R);
  const typers = [];
  room.on('typing', (users) => typers.push(users));
  const p = await f.connection();
  p.welcome('alice');
  await p.acceptJoin(R, 0);
  await room.ready;
  for (let i = 0; i < 5; i++) room.typing();
  const t = await p.next((fr) => fr.type === 'signal');
  assert.deepEqual(t.data, { active: true });
  p.reply(t);
  await sleep(50);
  assert.equal(p.frames.filter((fr) => fr.type === 'signal').length, 0, 'one typing signal for five calls');

  const signal = (ev, data, actor = 'bob') => p.send({ type: 'event', room: R, event: ev, actor, at: new Date().toISOString(), data });
  signal('typing', { active: true });
  await until(() => typers.length === 2);
  assert.deepEqual(typers, [['bob'], []]);
  signal('presence', { user: 'bob', status: 'joined' });
  signal('presence_batch', { joined: ['carol', 'dave'], left: ['alice'] });
  await until(() => room.presence.size === 3);
  assert.deepEqual([...room.presence].sort(), ['bob', 'carol', 'dave']);
});

test('heartbeat: a silent connection is dropped and replaced', async () => {
  const f = await fake();
  const c = client(f.url);
  const p1 = await f.connection();
  p1.send({ type: 'welcome', conn: 'c1', user: 'alice', bridge: 'fake', heartbeat: 1 });
  p1.ws.removeAllListeners('message'); // stops answering pings
  const p2 = await f.connection(6000);
  p2.welcome();
  await until(() => c.status === 'open');
});

test('sends of a room go one at a time, so they commit in the order they were made', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0);
  const [a, b] = [room.send('first'), room.send('second')];
  const history = room.history(); // queued behind the sends of its room
  const s1 = await p.next((fr) => fr.type === 'send');
  await sleep(100);
  assert.equal(p.frames.length, 0, 'nothing else written while the first send is unanswered');
  p.reply(s1, event(R, 1));
  const s2 = await p.next((fr) => fr.type === 'send');
  assert.equal(s2.body, 'second');
  p.reply(s2, event(R, 2));
  p.reply(await p.next((fr) => fr.type === 'history'), { events: [] });
  assert.deepEqual([(await a).seq, (await b).seq, (await history).length], [1, 2, 0]);
});

test('occupancy: a count-mode join reply, coalesced counts, roster pages, and a full list read again when the room falls back below its threshold', async () => {
  const f = await fake();
  const c = client(f.url);
  const counts = [];
  const room = c.join(R, { onOccupancy: (n) => counts.push(n) });
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0, { presence: ['alice', 'bob'], occupancy: 250 });
  await room.ready;
  assert.equal(room.occupancy, 250);
  assert.equal(room.presenceComplete, false, 'occupancy in the reply: the list is a page');
  assert.deepEqual([...room.presence], ['alice', 'bob']);

  const signal = (ev, data) => p.send({ type: 'event', room: R, event: ev, actor: null, at: new Date().toISOString(), data });
  signal('occupancy', { occupancy: 251 });
  signal('occupancy', { occupancy: 'lots' }); // not a count: ignored
  await until(() => room.occupancy === 251);
  assert.equal(room.presenceComplete, false);

  // Paging the roster through the roster frame.
  const paging = room.roster({ limit: 2 });
  const rf = await p.next((fr) => fr.type === 'roster');
  assert.deepEqual({ ...rf, ref: undefined }, { type: 'roster', room: R, limit: 2, ref: undefined });
  p.reply(rf, { room: R, occupancy: 252, users: ['alice', 'bob'], next: 'bob' });
  assert.deepEqual(await paging, { room: R, occupancy: 252, users: ['alice', 'bob'], next: 'bob' });
  assert.equal(room.occupancy, 252, 'a roster page carries the count too');
  const second = room.roster({ after: 'bob', limit: 2 });
  const rf2 = await p.next((fr) => fr.type === 'roster');
  assert.equal(rf2.after, 'bob');
  p.fail(rf2, 'BAD_REQUEST', '"limit" must be between 1 and 1000');
  await assert.rejects(second, (err) => err instanceof PgrtError && err.code === 'BAD_REQUEST');

  // Back at the threshold: the last count, then presence signals; the client reads the whole list again.
  signal('occupancy', { occupancy: 3 });
  signal('presence', { user: 'carol', status: 'left' });
  const refresh = await p.next((fr) => fr.type === 'roster');
  assert.equal(refresh.limit, 1000, 'one page holds any room at or below its threshold');
  p.reply(refresh, { room: R, occupancy: 2, users: ['alice', 'dave'], next: null });
  await until(() => room.presenceComplete);
  assert.deepEqual([...room.presence], ['alice', 'dave']);
  assert.equal(room.occupancy, 2);
  signal('presence', { user: 'erin', status: 'joined' });
  await until(() => room.occupancy === 3);
  assert.deepEqual([...room.presence].sort(), ['alice', 'dave', 'erin'], 'a complete list counts itself');
  assert.equal(p.frames.filter((fr) => fr.type === 'roster').length, 0, 'no roster read while the list is complete');
  assert.deepEqual(counts, [250, 251, 252, 3, 2, 3]);
});

test('occupancy: a small room reply keeps the full list and counts it', async () => {
  const f = await fake();
  const c = client(f.url);
  const room = c.join(R);
  const p = await f.connection();
  p.welcome();
  await p.acceptJoin(R, 0, { presence: ['alice', 'bob', 'carol'] });
  await room.ready;
  assert.equal(room.presenceComplete, true);
  assert.equal(room.occupancy, 3);
});
