// web/pgrt.js against real bridges and a real database: chat between two clients, offline queue
// and resume across a bridge restart, a bridge killed mid-stream with a second one to move to,
// token refresh and expiry. Needs PG* pointing at a migrated database and build/rt-bridge
// (RT_BRIDGE_BIN overrides). Run: node --test --test-concurrency=1 tests/browser/
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, until, sleep, psql, lit, makeRoom, logEvents, client, collect, checkSequence,
} from './lib/setup.mjs';
import { redactErased } from '../../web/pgrt.js';

const clients = [];
function open(...args) {
  const c = client(...args);
  clients.push(c);
  return c;
}
after(() => { for (const c of clients) c.close(); });

describe('one bridge', () => {
  let bridge;
  before(async () => { bridge = await new Bridge().start(); });
  after(async () => { assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000)); });

  test('two users chat: each event once, the reply is the event, edit and delete follow the rules', async () => {
    const room = await makeRoom('chat', 'alice', { bob: 'member' });
    const alice = open(bridge.wsUrl, 'alice');
    const bob = open(bridge.wsUrl, 'bob');
    const ra = alice.join(room);
    const rb = bob.join(room);
    const [seenA, seenB] = [collect(ra), collect(rb)];
    const [infoA] = await Promise.all([ra.ready, rb.ready]);
    assert.equal(infoA, ra);
    assert.deepEqual(ra.info.role, 'owner');

    const sent = await ra.send('hello bob', { client_msg_id: 'c-1' });
    assert.equal(sent.event, 'message');
    assert.equal(sent.data.client_msg_id, 'c-1');
    await until(() => seenB.some((e) => e.seq === sent.seq), { what: 'bob to receive the message' });
    await assert.rejects(rb.edit(sent.seq, 'not mine'), { code: 'FORBIDDEN' });
    const edited = await ra.edit(sent.seq, 'hello, bob');
    const deleted = await rb.send('oops').then((m) => rb.delete(m.seq));
    assert.equal(deleted.event, 'message_deleted');
    await until(() => seenA.length >= 4 && seenB.length >= 4, { what: 'all events on both sides' });
    for (const seen of [seenA, seenB]) {
      assert.equal(checkSequence(seen, sent.seq), null);
      assert.ok(seen.some((e) => e.seq === edited.seq && e.data.body === 'hello, bob'));
    }
    const page = await rb.history({ before: sent.seq + 1, limit: 2 });
    assert.deepEqual(page.map((e) => e.seq), [sent.seq - 1, sent.seq]);
  });

  test('presence, typing and read receipts reach the other user', async () => {
    const room = await makeRoom('chat', 'alice', { bob: 'member' });
    const alice = open(bridge.wsUrl, 'alice');
    const ra = alice.join(room);
    await ra.ready;
    const bob = open(bridge.wsUrl, 'bob');
    const rb = bob.join(room);
    await until(() => ra.presence.has('bob'), { what: 'alice to see bob online' });
    assert.ok(rb.presence.has('alice'));
    const typing = new Promise((resolve) => ra.on('typing', (users) => users.includes('bob') && resolve()));
    rb.typing();
    await typing;
    const msg = await ra.send('read me');
    const read = new Promise((resolve) => ra.on('read', (r) => r.user === 'bob' && resolve(r)));
    await rb.read(msg.seq);
    assert.equal((await read).seq, msg.seq);
    bob.close();
    await until(() => !ra.presence.has('bob'), { what: 'bob to go offline' });
  });

  test('client.search: every readable room, no join needed; erasure reaches the room as an erased event', async () => {
    const word = `quokka${Date.now().toString(36)}`;
    const dave = `dave-${Date.now().toString(36)}`;
    const r1 = await makeRoom('chat', 'alice', { bob: 'member', [dave]: 'member' });
    const r2 = await makeRoom('chat', 'alice', { bob: 'member' });
    await psql(`SELECT rt.post_message(${lit(r1)}, ${lit(dave)}, ${lit(`${word} one`)});
                SELECT rt.post_message(${lit(r2)}, 'alice', ${lit(`${word} two`)})`);
    const bob = open(bridge.wsUrl, 'bob');
    const found = await bob.search(word);
    assert.deepEqual(found.map((r) => r.room), [r2, r1], 'newest first, without joining');
    assert.equal(found[1].snippet, `<mark>${word}</mark> one`);
    assert.deepEqual((await bob.search(word, { room: r1 })).map((r) => r.actor), [dave]);
    assert.deepEqual((await bob.search(word, { before: found[0].at })).map((r) => r.room), [r1]);
    await assert.rejects(bob.search(word, { limit: 0 }), { code: 'BAD_REQUEST' });
    await assert.rejects(bob.search(word, { room: 'nope' }), { code: 'FORBIDDEN' });
    await assert.rejects(bob.search(''), TypeError);

    const rb = bob.join(r1, { since: 0 });
    const seen = collect(rb);
    await until(() => seen.some((e) => e.data?.body === `${word} one`), { what: 'the message' });
    const erased = new Promise((resolve) => rb.on('erased', resolve));
    await psql(`SELECT rt.erase_user(${lit(dave)}, 'test')`);
    const e = await erased;
    assert.equal(e.user, dave);
    assert.equal(e.seq, e.upto + 1);
    const shown = seen.find((ev) => ev.actor === dave && ev.event === 'message');
    assert.equal(redactErased(shown, dave), true, 'the application redacts what it showed');
    assert.deepEqual(shown.data, { ...shown.data, body: null, media_url: null, meta: {}, erased: true });
    assert.deepEqual(await bob.search(word), [found[0]], 'the erased text is no longer found');
  });

  test('a room the user may not see is FORBIDDEN, and the client carries on', async () => {
    const room = await makeRoom('chat', 'alice');
    const mallory = open(bridge.wsUrl, 'mallory');
    await assert.rejects(mallory.join(room).ready, { code: 'FORBIDDEN' });
    await assert.rejects(mallory.join('no-such-room-anywhere').ready, { code: 'FORBIDDEN' });
    assert.equal(mallory.status, 'open');
  });

  test('conversation: state moves with expect, CONFLICT on a stale version, services publish', async () => {
    const room = await makeRoom('conversation', 'alice', { bob: 'member' });
    const bob = open(bridge.wsUrl, 'bob');
    const rb = bob.join(room);
    await rb.ready;
    assert.deepEqual([rb.info.state, rb.info.version], ['IDLE', 0]);
    await rb.state('LISTENING', 0);
    await assert.rejects(rb.state('PROCESSING', 0), { code: 'CONFLICT' });
    await assert.rejects(rb.state('SPEAKING', 1), { code: 'INVALID_TRANSITION' });
    await assert.rejects(rb.publish('ai_response', { text: 'x' }), { code: 'FORBIDDEN' });
    await until(() => rb.info.state === 'LISTENING' && rb.info.version === 1, { what: 'info to follow state events' });
  });

  test('the bridge restarts: offline sends are queued, nothing is missed or doubled', async () => {
    const room = await makeRoom('chat', 'alice', { bob: 'member' });
    const alice = open(bridge.wsUrl, 'alice');
    const bob = open(bridge.wsUrl, 'bob');
    const [ra, rb] = [alice.join(room), bob.join(room)];
    const [seenA, seenB] = [collect(ra), collect(rb)];
    await Promise.all([ra.ready, rb.ready]);
    const start = (await ra.send('before')).seq;

    await bridge.stop();
    await until(() => alice.status === 'reconnecting' && bob.status === 'reconnecting', { what: 'clients to notice' });
    const offline = ['q1', 'q2', 'q3'].map((body) => ra.send(body));
    await psql(`SELECT rt.post_message(${lit(room)}, 'bob', 'from psql while the bridge was down')`);
    assert.ok(alice.queued >= 3);
    await bridge.start();

    const stored = await Promise.all(offline);
    await until(() => seenA.length === 5 && seenB.length === 5, { what: 'both clients to catch up', timeout: 15000 });
    for (const seen of [seenA, seenB]) assert.equal(checkSequence(seen, start), null);
    const log = (await logEvents(room)).filter((e) => e.event === 'message');
    assert.deepEqual(log.map((e) => e.data.body), ['before', 'from psql while the bridge was down', 'q1', 'q2', 'q3']);
    assert.deepEqual(stored.map((e) => e.data.body), ['q1', 'q2', 'q3']);
  });
});

describe('two bridges', () => {
  let b1, b2;
  before(async () => { [b1, b2] = await Promise.all([new Bridge().start(), new Bridge().start()]); });
  after(async () => { await Promise.all([b1.stop(), b2.stop()]); });

  test('a bridge killed mid-stream: the client moves to the other, every send is stored once, in order', async () => {
    const room = await makeRoom('chat', 'alice', { bob: 'member' });
    const alice = open([b1.wsUrl, b2.wsUrl], 'alice');
    const bob = open(b2.wsUrl, 'bob');
    const [ra, rb] = [alice.join(room), bob.join(room)];
    const seenB = collect(rb);
    await Promise.all([ra.ready, rb.ready]);
    const sends = [];
    for (let i = 0; i < 40; i++) {
      sends.push(ra.send(`n${i}`));
      if (i === 15) await b1.kill();
      await sleep(10);
    }
    const stored = await Promise.all(sends);
    assert.deepEqual(stored.map((e) => e.data.body), sends.map((_, i) => `n${i}`));
    const log = (await logEvents(room)).filter((e) => e.event === 'message');
    assert.deepEqual(log.map((e) => e.data.body), sends.map((_, i) => `n${i}`), 'each send stored once, in order');
    await until(() => seenB.filter((e) => e.event === 'message').length === 40, { what: 'bob to see all 40' });
    assert.equal(checkSequence(seenB), null);
    assert.equal(alice.bridge, (await b2.health()).body.bridge);
    await b1.start();
  });
});

describe('tokens', () => {
  let bridge;
  before(async () => { bridge = await new Bridge().start(); });
  after(async () => { await bridge.stop(); });

  test('getToken refreshes before exp with an auth frame: no reconnect', async () => {
    const { token } = await import('./lib/setup.mjs');
    let calls = 0;
    const c = open(bridge.wsUrl, 'alice', { token: token('alice', { ttl: 4 }), getToken: async () => { calls += 1; return token('alice', { ttl: 3600 }); } });
    const statuses = [];
    c.on('status', (s) => statuses.push(s.status));
    await until(() => c.status === 'open');
    await sleep(6000);
    assert.ok(calls >= 1, 'getToken was called');
    assert.equal(c.status, 'open');
    assert.ok(!statuses.includes('reconnecting'), `statuses: ${statuses}`);
  });

  test('without getToken, an expired token ends the client with 4001', async () => {
    const { token } = await import('./lib/setup.mjs');
    const c = open(bridge.wsUrl, 'alice', { token: token('alice', { ttl: 2 }) });
    const closed = new Promise((resolve) => c.on('status', (s) => s.status === 'closed' && resolve(s)));
    assert.equal((await closed).code, 4001);
  });
});
