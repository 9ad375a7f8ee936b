// Replay (docs/protocol.md: join, delivery guarantees 2 and 3): join with since gets every event after since before any
// newer live event, no gaps, no duplicates, recovered:true; after pruning, recovered:false; large
// events (NOTIFY by reference) arrive intact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, psqlScript, lit, dbEvents, lastSeq, assertSeqRange, checkEvent, sleep,
} from './lib/proto.mjs';

let bridge;
before(async () => { bridge = await new Bridge().start(); });
after(async () => {
  const status = await bridge.stop();
  assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
});

test('join with since while psql keeps posting: since+1 .. end, once each, in order, recovered:true', async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'old ' || g) FROM generate_series(1, 1500) g`); // seq 2..1501
  // Live traffic: 300 separate transactions while the client joins with since = 10 (1491 to replay,
  // more than one events_since page).
  let script = '';
  for (let i = 0; i < 300; i++) script += `SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'live ${i}');\n`;
  const writer = psqlScript(script);
  const c = await open(bridge, alice);
  const d = await c.join(room, { since: 10 });
  assert.equal(d.recovered, true);
  assert.ok(d.seq >= 1501, `join seq ${d.seq}`);
  await writer;
  const end = await lastSeq(room);
  assert.equal(end, 1801);
  await c.waitSeq(room, end, 20000);
  await c.barrier();
  assertSeqRange(c.seqs(room), 11, end, 'replayed + live');
  const db = await dbEvents(room);
  assert.deepEqual(c.events(room).map((e) => ({ seq: e.seq, event: e.event, actor: e.actor })), db.slice(10));
  for (const e of c.events(room).slice(0, 3)) checkEvent(e, { room, event: 'message' });
  await closeAll(c);
});

test('reconnect with since = last seen: exactly the missed events, then live ones', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(bridge, alice);
  const b = await open(bridge, bob);
  await a.join(room);
  await b.join(room, { since: 0 });
  for (let i = 0; i < 5; i++) await a.ok({ type: 'send', room, body: `before ${i}` });
  await b.waitSeq(room, 7);
  const seen = b.seqs(room).at(-1);
  await b.close();
  for (let i = 0; i < 5; i++) await a.ok({ type: 'send', room, body: `while away ${i}` });
  const b2 = await open(bridge, bob);
  const d = await b2.join(room, { since: seen });
  assert.equal(d.recovered, true);
  assert.equal(d.seq, 12);
  const live = await a.ok({ type: 'send', room, body: 'live' });
  await b2.waitSeq(room, live.seq);
  await b2.barrier();
  assertSeqRange(b2.seqs(room), seen + 1, live.seq, 'after reconnect');
  assertSeqRange([...b.seqs(room), ...b2.seqs(room)], 1, live.seq, 'both connections together');
  await closeAll(a, b2);
});

test('join with since = latest replays nothing and is recovered', async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'x')`);
  const c = await open(bridge, alice);
  const d = await c.join(room, { since: 2 });
  assert.equal(d.recovered, true);
  const ev = await c.ok({ type: 'send', room, body: 'next' });
  await c.waitSeq(room, ev.seq);
  assert.deepEqual(c.seqs(room), [3]);
  await closeAll(c);
});

test('after rt.prune_events with a short retention, a join with an old since says recovered:false and replays what is left', async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'p' || g) FROM generate_series(1, 5) g`); // seq 2..6
  // Age this room's first 4 events past a 1-day retention (test database only), prune, restore.
  const retention = await psql(`SELECT value FROM rt.settings WHERE key = 'retention'`);
  try {
    await psql(`UPDATE rt.events SET at = now() - interval '2 days' WHERE room = ${lit(room)} AND seq <= 4`);
    await psql(`SELECT rt.set_setting('retention', '1 days')`);
    const n = Number(await psql('SELECT rt.prune_events()'));
    assert.ok(n >= 4, `pruned ${n}`);
  } finally {
    await psql(`SELECT rt.set_setting('retention', ${lit(retention || '30 days')})`);
  }
  assert.deepEqual((await dbEvents(room)).map((e) => e.seq), [5, 6]);
  const c = await open(bridge, alice);
  const d = await c.join(room, { since: 2 });
  assert.equal(d.recovered, false, 'events 3 and 4 are gone: recovered must be false');
  assert.equal(d.seq, 6);
  await c.waitSeq(room, 6);
  await c.barrier();
  assert.deepEqual(c.seqs(room), [5, 6], 'what is left is replayed, in order');
  const c2 = await open(bridge, alice);
  const d2 = await c2.join(room, { since: 4 });
  assert.equal(d2.recovered, true, 'nothing after seq 4 was pruned');
  await c2.waitSeq(room, 6);
  assert.deepEqual(c2.seqs(room), [5, 6]);
  // New events keep their seq (never reused).
  const ev = await c.ok({ type: 'send', room, body: 'after prune' });
  assert.equal(ev.seq, 7);
  await closeAll(c, c2);
});

test('a 20 KiB message posted from psql reaches a WebSocket client intact (NOTIFY by reference)', async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const c = await open(bridge, alice);
  await c.join(room);
  let body = '';
  for (let i = 0; body.length < 20480; i++) body += `${i}:ÄÖÜ✓${'abcdefghij'.repeat(3)}|`;
  body = body.slice(0, 20480);
  const sent = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, ${lit(body)})`));
  const got = await c.next((f) => f.type === 'event' && f.room === room && f.seq === sent.seq, 10000);
  assert.equal(got.data.body.length, 20480);
  assert.equal(got.data.body, body);
  assert.deepEqual(got, sent);
  // And small + large events interleaved keep seq order.
  let script = '';
  for (let i = 0; i < 20; i++) {
    const b = i % 3 === 0 ? 'L'.repeat(9000 + i) : `small ${i}`;
    script += `SELECT rt.post_message(${lit(room)}, ${lit(alice)}, ${lit(b)});\n`;
  }
  await psqlScript(script);
  await c.waitSeq(room, sent.seq + 20);
  await c.barrier();
  assertSeqRange(c.seqs(room), sent.seq, sent.seq + 20, 'interleaved large/small');
  for (const e of c.events(room).slice(1)) {
    const i = e.seq - sent.seq - 1;
    assert.equal(e.data.body, i % 3 === 0 ? 'L'.repeat(9000 + i) : `small ${i}`);
  }
  await closeAll(c);
});

test('a 60 KiB message sent over WebSocket reaches another client intact', async () => {
  const alice = uid('alice'), bob = uid('bob');
  const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const a = await open(bridge, alice), b = await open(bridge, bob);
  await a.join(room); await b.join(room);
  const body = 'abcdefghijklmnoé'.repeat(3600); // 61,200 bytes of UTF-8: under the 64 KiB event limit with its envelope
  const ev = await a.ok({ type: 'send', room, body });
  const got = await b.next((f) => f.type === 'event' && f.seq === ev.seq, 10000);
  assert.equal(got.data.body, body);
  await closeAll(a, b);
});

for (const [n, size] of [[6000, 150], [3000, 1500], [1500, 4000]]) {
  test(`a replay bigger than the send-queue bound (${n} events of ${size} bytes) arrives complete: the bridge paces it, no 4008`, { timeout: 60000 }, async () => {
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('r', ${size}))) FROM generate_series(1, ${n}) g`);
    const c = await open(bridge, alice);
    const d = await c.join(room, { since: 0 }, 15000);
    assert.equal(d.seq, n + 1);
    assert.equal(d.recovered, true);
    await c.waitSeq(room, n + 1, 40000);
    await c.barrier();
    assertSeqRange(c.seqs(room), 1, n + 1, `replay of ${n} events`);
    await closeAll(c);
  });
}

test('events around the 8000-byte NOTIFY limit (inline vs by reference), ASCII and 4-byte UTF-8, arrive intact and in order', { timeout: 30000 }, async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const c = await open(bridge, alice);
  await c.join(room);
  const bodies = [];
  for (let n = 7650; n <= 7950; n += 15) bodies.push('a'.repeat(n));
  for (let n = 1900; n <= 2000; n += 5) bodies.push('😀'.repeat(n)); // 4 bytes each: 7600..8000 bytes
  let script = '';
  for (const b of bodies) script += `SELECT count(*) FROM (SELECT rt.post_message(${lit(room)}, ${lit(alice)}, ${lit(b)})) x;\n`;
  await psqlScript(script);
  const last = 1 + bodies.length;
  await c.waitSeq(room, last, 20000);
  await c.barrier();
  assertSeqRange(c.seqs(room), 2, last, 'boundary-sized events');
  c.events(room).forEach((e, i) => assert.equal(e.data.body, bodies[i], `body of seq ${e.seq} (${Buffer.byteLength(bodies[i])} bytes) changed`));
  await closeAll(c);
});

test('join without since during traffic: exactly the events after the reply\'s seq, gap-free, none before', { timeout: 30000 }, async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  let script = '';
  for (let i = 0; i < 400; i++) script += `SELECT count(*) FROM (SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'flow ${i}')) x;\n`;
  const writer = psqlScript(script);
  const clients = [];
  const joins = [];
  for (let i = 0; i < 5; i++) {
    await sleep(40);
    const c = await open(bridge, alice);
    clients.push(c);
    joins.push(await c.join(room));
  }
  await writer;
  for (const [i, c] of clients.entries()) {
    await c.waitSeq(room, 401, 20000);
    await c.barrier();
    assertSeqRange(c.seqs(room), joins[i].seq + 1, 401, `client ${i} joined at seq ${joins[i].seq}`);
  }
  await closeAll(clients);
});
