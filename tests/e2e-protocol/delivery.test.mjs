// The delivery checker (docs/protocol.md delivery guarantees 1–4): 12 clients on 4 rooms across two bridges, continuous
// sends for a few seconds, one client that disconnects and rejoins with since mid-stream, one slow
// reader that pauses its socket. At the end every client has every seq of its rooms exactly once and
// in order, matching rt.events, and every acknowledged send is in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, dbEvents, lastSeq, assertSeqRange, sleep, until,
} from './lib/proto.mjs';

const N = 12, M = 4, SECONDS = 4, PER_SECOND = 15; // per client: well under the default rate limit
let b1, b2;
before(async () => { [b1, b2] = await Promise.all([new Bridge().start(), new Bridge().start()]); });
after(async () => {
  const [s1, s2] = await Promise.all([b1.stop(), b2.stop()]);
  assert.deepEqual(s1, { code: 0, signal: null }, b1.log.slice(-3000));
  assert.deepEqual(s2, { code: 0, signal: null }, b2.log.slice(-3000));
});

/**
 * One logical client: a user, its rooms, and the connections it went through. `seen` collects the
 * persisted events of each room over all its connections; a reconnect resumes with since = the last
 * seq seen, so the union must be gap-free and duplicate-free.
 */
class Peer {
  constructor(i, user, rooms) {
    this.i = i; this.user = user; this.rooms = rooms;
    this.seen = Object.fromEntries(rooms.map((r) => [r, []]));
    this.acked = [];
    this.conns = [];
    this.closes = [];
  }

  bridge() { return (this.i + this.conns.length) % 2 ? b2 : b1; } // reconnects alternate bridges

  async connect(first) {
    const c = await open(this.bridge(), this.user);
    this.c = c;
    this.conns.push(c);
    c.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.type === 'event' && f.seq !== undefined && this.seen[f.room]) this.seen[f.room].push(f.seq);
    });
    c.closed.then((cl) => { if (c === this.c) this.closes.push(cl.code); });
    for (const r of this.rooms) {
      const since = first ? 0 : (this.seen[r].at(-1) ?? 0);
      const d = await c.join(r, { since }, 15000);
      assert.equal(d.recovered, true);
    }
  }

  last(room) { return this.seen[room].at(-1) ?? 0; }
}

test('12 clients, 4 rooms, 2 bridges, a reconnecting client and a slow reader: every seq exactly once, in order', { timeout: 90000 }, async () => {
  const users = Array.from({ length: N }, (_, i) => uid(`u${i}`));
  const rooms = [];
  for (let r = 0; r < M; r++) {
    rooms.push(await makeRoom({ owner: users[r], members: Object.fromEntries(users.filter((_, i) => i !== r).map((u) => [u, 'member'])) }));
  }
  // Client i is in rooms i % M and (i + 1) % M.
  const peers = users.map((u, i) => new Peer(i, u, [rooms[i % M], rooms[(i + 1) % M]]));
  await Promise.all(peers.map((p) => p.connect(true)));

  const RECONNECTER = 3, SLOW = 5;
  const stopAt = Date.now() + SECONDS * 1000;
  let sendErrors = [];

  const sender = async (p) => {
    let k = 0;
    while (Date.now() < stopAt) {
      const room = p.rooms[k % 2];
      const c = p.c;
      if (c && c.ws.readyState === 1 && !p.paused) {
        const body = `${p.user} ${k}`;
        k++;
        c.request({ type: 'send', room, body, client_msg_id: `${p.user}-${k}` }, 20000)
          .then((r) => { if (r.ok) p.acked.push({ room, seq: r.data.seq, body }); else sendErrors.push(r.error); })
          .catch(() => {}); // a connection closed under it (reconnect/slow): unacknowledged, fine
      }
      await sleep(1000 / PER_SECOND);
    }
  };

  const reconnecter = async () => {
    await sleep(SECONDS * 1000 * 0.35);
    const p = peers[RECONNECTER];
    const old = p.c;
    p.c = null;
    p.paused = true;
    old.ws.terminate(); // abrupt: no close handshake
    await sleep(400);   // events flow while it is away
    await p.connect(false);
    p.paused = false;
  };

  const slowReader = async () => {
    await sleep(SECONDS * 1000 * 0.2);
    const p = peers[SLOW];
    p.paused = true; // it does not send while not reading either
    p.c.ws.pause(); // ws.pause(), not ws._socket.pause(): ws resumes its socket by itself on receiver drain
    await sleep(1500);
    p.c.ws.resume();
    p.paused = false;
  };

  await Promise.all([...peers.map(sender), reconnecter(), slowReader()]);

  // The slow reader may have been closed with 4008 (allowed: it must then resume with since).
  const slow = peers[SLOW];
  if (slow.closes.length) {
    assert.deepEqual(slow.closes, [4008], `slow reader closed with ${slow.closes}`);
    await slow.connect(false);
  }
  assert.deepEqual(sendErrors, [], 'sends were refused');

  // Wait for every client to reach each room's last seq.
  const finals = Object.fromEntries(await Promise.all(rooms.map(async (r) => [r, await lastSeq(r)])));
  await until(() => peers.every((p) => p.rooms.every((r) => p.last(r) >= finals[r])),
    { timeout: 30000, what: `every client to catch up: ${JSON.stringify(peers.map((p) => p.rooms.map((r) => `${p.last(r)}/${finals[r]}`)))}` });
  await Promise.all(peers.map((p) => p.c.barrier()));

  const total = Object.values(finals).reduce((x, y) => x + y, 0);
  assert.ok(total > 400, `too little traffic to mean anything: ${total} events`);
  for (const r of rooms) {
    const db = await dbEvents(r);
    assertSeqRange(db.map((e) => e.seq), 1, finals[r], `rt.events of ${r}`);
  }
  for (const p of peers) {
    for (const r of p.rooms) assertSeqRange(p.seen[r], 1, finals[r], `client ${p.i} (${p.conns.length} connection(s)) room ${r}`);
  }
  // Every acknowledged send is in the log with the acknowledged seq.
  const bodies = {};
  for (const r of rooms) bodies[r] = JSON.parse(await psql(`SELECT coalesce(json_object_agg(seq, data->>'body'), '{}') FROM rt.events WHERE room = ${lit(r)}`));
  for (const p of peers) {
    for (const a of p.acked) assert.equal(bodies[a.room][a.seq], a.body, `acknowledged ${a.room}#${a.seq} is not in rt.events as sent`);
  }
  const acked = peers.reduce((n, p) => n + p.acked.length, 0);
  assert.ok(acked > 300, `acknowledged sends: ${acked}`);
  assert.ok(peers[RECONNECTER].conns.length >= 2, 'the reconnecter reconnected');
  await closeAll(peers.map((p) => p.c));
});

test('fan-out: 160 connections in one room on two bridges each receive all 200 events once, in order; presence lists everyone', { timeout: 60000 }, async () => {
  const owner = uid('owner');
  const users = Array.from({ length: 160 }, (_, i) => uid(`f${i}`));
  const room = await makeRoom({ owner });
  await psql(`SELECT rt.add_member(${lit(room)}, u) FROM unnest(ARRAY[${users.map(lit).join(',')}]) u`);
  const base = await lastSeq(room);
  const clients = [];
  for (let i = 0; i < users.length; i += 20) {
    clients.push(...await Promise.all(users.slice(i, i + 20).map((u, j) => open((i + j) % 2 ? b2 : b1, u))));
  }
  await Promise.all(clients.map((c) => c.join(room, {}, 15000)));
  const probe = await open(b1, owner);
  const d = await probe.join(room);
  assert.equal(d.presence.length, 161, `presence lists ${d.presence.length} of 161 users`);
  await psql(`DO $$ BEGIN FOR t IN 1..20 LOOP
      PERFORM rt.post_message(${lit(room)}, ${lit(owner)}, 'fan ' || t || '.' || g) FROM generate_series(1, 10) g; COMMIT; END LOOP; END $$`);
  const last = base + 200;
  await Promise.all(clients.map((c) => c.waitSeq(room, last, 30000)));
  for (const c of clients) assertSeqRange(c.seqs(room), base + 1, last, c.user);
  await closeAll(clients, probe);
});
