// Limits and liveness (docs/protocol.md "Close codes", delivery guarantee 4): each limit is a flag, each is
// enforced with the contract's code: frame size (1009), rooms per connection, connections (503 at
// upgrade), command rate (RATE_LIMITED retry:true, then 4029), send queue (4008 with bounded memory,
// resume with since), heartbeat (dead peers dropped), token expiry (4001 unless refreshed by auth).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, eventCount, lastSeq, dbEvents, assertSeqRange, requireFlag,
  rssKiB, connections, until, sleep, jwt, checkError, SANITIZED, within, rawPeer,
} from './lib/proto.mjs';
import { upgradeStatus } from '../e2e/lib/client.mjs';

// Each test starts its own bridge and stops it when it ends (checking a clean exit), so idle bridges
// do not share the NOTIFY stream of later tests.
async function bridgeWith(t, args) {
  const b = await new Bridge({ args }).start();
  t.after(async () => {
    const status = await b.stop();
    assert.deepEqual(status, { code: 0, signal: null }, b.log.slice(-3000));
  });
  return b;
}

test('--max-frame-bytes: a frame just under passes, one over closes with 1009 and stores nothing', async (t) => {
  await requireFlag('--max-frame-bytes');
  const b = await bridgeWith(t, ['--max-frame-bytes', '2048']);
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const c = await open(b, alice);
  await c.join(room);
  await c.ok({ type: 'send', room, body: 's'.repeat(1800) });
  const before = await eventCount(room);
  c.send({ type: 'send', room, ref: 'over', body: 'o'.repeat(2100) });
  assert.equal((await c.closed).code, 1009);
  assert.equal(await eventCount(room), before);
});

test('--max-rooms-per-connection: one join too many is refused (TOO_LARGE), rejoining counts once, leave frees a slot', async (t) => {
  await requireFlag('--max-rooms-per-connection');
  const b = await bridgeWith(t, ['--max-rooms-per-connection', '2']);
  const alice = uid('alice');
  const r1 = await makeRoom({ owner: alice }), r2 = await makeRoom({ owner: alice }), r3 = await makeRoom({ owner: alice });
  const c = await open(b, alice);
  await c.join(r1);
  await c.join(r2);
  await c.join(r2); // already joined: not a third room
  const e = await c.fail({ type: 'join', room: r3 }, 'TOO_LARGE');
  assert.equal(e.retry, false);
  // The refused join is not a join: no presence in r3.
  const probe = await open(b, alice);
  const d = await probe.join(r3);
  assert.deepEqual(d.presence, [alice]);
  await probe.close();
  await c.ok({ type: 'leave', room: r1 });
  await c.join(r3);
  const ev = await c.ok({ type: 'send', room: r3, body: 'in r3' });
  await c.waitSeq(r3, ev.seq);
  // A second connection has its own budget.
  const c2 = await open(b, alice);
  await c2.join(r1); await c2.join(r2);
  await closeAll(c, c2);
});

test('--max-connections: the next upgrade gets HTTP 503; a slot frees when a client leaves', async (t) => {
  await requireFlag('--max-connections');
  const b = await bridgeWith(t, ['--max-connections', '3']);
  const cs = [];
  for (let i = 0; i < 3; i++) cs.push(await open(b, uid('u')));
  assert.equal(await upgradeStatus(b.wsUrl, { token: jwt.token(uid('u')) }), 503);
  assert.equal((await b.health()).body.connections, 3);
  await cs.pop().close();
  await until(async () => (await upgradeStatus(b.wsUrl, { token: jwt.token(uid('u')) })) === 101, { timeout: 5000, what: 'a free slot' });
  await closeAll(cs);
});

describe('--rate-limit / --rate-burst', () => {
  test('beyond the burst: RATE_LIMITED with retry:true and nothing stored for refused frames; after a pause, accepted again', async (t) => {
    await requireFlag('--rate-limit'); await requireFlag('--rate-burst');
    const b = await bridgeWith(t, ['--rate-limit', '5', '--rate-burst', '5', '--rate-limit-close-after', '1000']);
    const alice = uid('alice');
    const room = await makeRoom({ owner: alice });
    const c = await open(b, alice);
    await c.join(room);
    await sleep(1100); // the bucket is full again
    const replies = await Promise.all(Array.from({ length: 15 }, (_, i) => c.request({ type: 'send', room, body: `flood ${i}` })));
    const ok = replies.filter((r) => r.ok);
    const limited = replies.filter((r) => !r.ok);
    assert.ok(ok.length >= 4 && ok.length <= 7, `accepted ${ok.length} of 15 with burst 5`);
    assert.ok(limited.length >= 8, `refused ${limited.length}`);
    for (const r of limited) {
      checkError(r.error);
      assert.equal(r.error.code, 'RATE_LIMITED');
      assert.equal(r.error.retry, true);
    }
    assert.equal(await eventCount(room), 1 + ok.length, 'refused frames were executed');
    await sleep(1500);
    await c.ok({ type: 'send', room, body: 'after a pause' });
    assert.equal(c.ws.readyState, 1);
    await closeAll(c);
  });

  test('a client that keeps flooding is closed with 4029; another client on the bridge is served meanwhile', async (t) => {
    await requireFlag('--rate-limit-close-after');
    const b = await bridgeWith(t, ['--rate-limit', '20', '--rate-burst', '20', '--rate-limit-close-after', '30']);
    const alice = uid('alice'), bob = uid('bob');
    const room = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
    const flooder = await open(b, alice), calm = await open(b, bob);
    await flooder.join(room); await calm.join(room);
    let closed = null;
    flooder.closed.then((cl) => { closed = cl; });
    // Flood with one frame in flight at a time (far above 20/s): the bridge has read everything it
    // was sent when it closes, so its close frame cannot be lost to a TCP reset (that case is
    // tests/e2e-protocol-pending/close_code_lost.test.mjs).
    const t0 = Date.now();
    for (let i = 0; !closed && Date.now() - t0 < 10000; i++) {
      await flooder.request({ type: 'history', room, ref: `f${i}`, limit: 1 }, 5000).catch(() => null);
    }
    const cl = await within(flooder.closed, 5000, 'flooder close');
    assert.equal(cl.code, 4029);
    assert.ok(flooder.log.some((f) => f.type === 'reply' && f.error?.code === 'RATE_LIMITED'), `RATE_LIMITED replies came before the close: ${JSON.stringify(flooder.log.map((f) => f.error?.code ?? f.type))}`);
    await calm.ok({ type: 'send', room, body: 'still served' });
    await closeAll(calm);
  });
});

test('--max-queue-bytes: a client that stops reading while 10,000 events flow is closed with 4008, memory stays bounded, and it resumes with since to every seq', { timeout: 120000 }, async (t) => {
  await requireFlag('--max-queue-bytes');
  const QUEUE = 1024 * 1024;
  const b = await bridgeWith(t, ['--max-queue-bytes', String(QUEUE), '--log-level', 'info']);
  const alice = uid('alice'), slowU = uid('slow');
  const room = await makeRoom({ owner: alice, members: { [slowU]: 'member' } });
  const reader = await open(b, alice);
  await reader.join(room);
  const slow = await open(b, slowU);
  await slow.join(room, { since: 0 });
  await slow.waitSeq(room, 2);
  // 10 events per transaction, ~7 KiB each (under NOTIFY's 8000 bytes: forwarded inline). The flow
  // (~72 MB) must exceed what the kernel can buffer for a non-reading client (its receive buffer
  // grows up to tcp_rmem's max, the bridge's send buffer up to tcp_wmem's max), or the bridge never
  // has to give up on it.
  const BODY = 7000;
  const sysctlMax = (f, dflt) => { try { return Number(fs.readFileSync(`/proc/sys/net/ipv4/${f}`, 'utf8').trim().split(/\s+/)[2]); } catch { return dflt; } };
  const kernelMax = sysctlMax('tcp_rmem', 6 << 20) + sysctlMax('tcp_wmem', 4 << 20);
  assert.ok(10000 * BODY > 1.5 * (kernelMax + QUEUE), `test setup: 10,000 × ${BODY} bytes does not exceed the kernel's socket buffers (${kernelMax}) by enough`);
  const produce = (n, tag) => psql(`DO $$ BEGIN FOR t IN 1..${n / 10} LOOP
      PERFORM rt.post_message(${lit(room)}, ${lit(alice)}, '${tag}' || t || '-' || g || repeat('q', ${BODY})) FROM generate_series(1, 10) g;
      COMMIT; END LOOP; END $$`);
  // Warm up: both read 1,000 events; then the baseline.
  await produce(1000, 'warm');
  await reader.waitSeq(room, 1002, 30000);
  await slow.waitSeq(room, 1002, 30000);
  const pid = b.proc.pid;
  const base = rssKiB(pid);
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(pid)); }, 25);
  slow.ws.pause(); // ws.pause(), not ws._socket.pause(): ws resumes its socket by itself on receiver drain
  const slowClosed = slow.closed;
  const slowConsumerCloses = async () => {
    const text = await (await fetch(`${b.url}/metrics`)).text();
    const line = text.split('\n').find((l) => /^\w*slow_consumer\w*(\{[^}]*\})?\s+\d/.test(l));
    assert.ok(line, `no slow-consumer close counter in /metrics:\n${text.slice(0, 2000)}`);
    return Number(line.trim().split(/\s+/).pop());
  };
  try {
    const flow = produce(10000, 'flow');
    // Keep not reading until the bridge has given up on the client (a client that only pauses
    // briefly may legitimately catch up), then read again at once: the close frame waits behind
    // what the kernel holds for the client, and a peer that stays silent past the bridge's close
    // timeout (10 s) is cut off without it (1006), which a loaded machine's remaining flow can outlast.
    await until(async () => (await slowConsumerCloses()) >= 1,
      { timeout: 60000, interval: 100, what: 'the bridge to close the non-reading client (slow-consumer counter)' });
    slow.ws.resume();
    await flow;
    const end = await lastSeq(room);
    assert.equal(end, 11002);
    await reader.waitSeq(room, end, 60000);
    await sleep(300); // let the bridge settle before the last RSS sample
    peak = Math.max(peak, rssKiB(pid));
  } finally {
    clearInterval(sampler);
  }
  assert.equal(reader.ws.readyState, 1, 'the reading client was closed too');
  const growthMiB = (peak - base) / 1024;
  if (!SANITIZED) assert.ok(growthMiB < 16, `bridge RSS grew by ${growthMiB.toFixed(1)} MiB (queue bound ${QUEUE / 1024} KiB; ~72 MB flowed)`);
  const cl = await within(slowClosed, 20000, 'the slow client\'s close').catch((e) => {
    throw new Error(`${e.message}; the slow client got ${slow.seqs(room).length} events (last ${slow.seqs(room).at(-1)}); ` +
      `bridge: ${b.log.split('\n').filter((l) => /slow|4008|queue/.test(l)).slice(-3).join(' | ')}`);
  });
  assert.equal(cl.code, 4008, `slow client closed with ${cl.code}`);
  const got = slow.seqs(room);
  assertSeqRange(got, 1, got.at(-1), 'what the slow client got before 4008');
  assert.ok(got.at(-1) < 11002, 'it was closed before the end');
  // Resume with since and end with every seq.
  const again = await open(b, slowU);
  const d = await again.join(room, { since: got.at(-1) });
  assert.equal(d.recovered, true);
  await again.waitSeq(room, 11002, 60000);
  await again.barrier();
  assertSeqRange([...got, ...again.seqs(room)], 1, 11002, 'slow client over both connections');
  assertSeqRange(reader.seqs(room), 3, 11002, 'the reading client');
  await closeAll(reader, again);
});

test('a client that reads is not closed by a burst bigger than the queue bound (1,000 × 2 KiB events in one transaction)', { timeout: 60000 }, async (t) => {
  const b = await bridgeWith(t, []); // default --max-queue-bytes (1 MiB)
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const c = await open(b, alice);
  await c.join(room);
  await psql(`SELECT count(rt.post_message(${lit(room)}, ${lit(alice)}, g || repeat('b', 2000))) FROM generate_series(1, 1000) g`);
  await c.waitSeq(room, 1001, 30000);
  await c.barrier();
  assertSeqRange(c.seqs(room), 2, 1001, 'the burst');
  await closeAll(c);
});

describe('liveness', { concurrency: true }, () => {
  test('--heartbeat: a peer that never answers pings is dropped; a live one is kept', { timeout: 40000 }, async (t) => {
    await requireFlag('--heartbeat');
    const b = await bridgeWith(t, ['--heartbeat', '5']);
    const live = await open(b, uid('live'));
    assert.equal(live.welcome.heartbeat, 5);
    // A dead peer: upgrades by hand, joins a room, then never reads or answers anything.
    const deadUser = uid('dead');
    const room = await makeRoom({ owner: live.user, members: { [deadUser]: 'member' } });
    await live.join(room);
    const { sock, sendText } = await rawPeer(b, jwt.token(deadUser));
    sendText(JSON.stringify({ type: 'join', room, ref: 'dead-join' }));
    await live.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === deadUser && f.data?.status === 'joined');
    sock.pause();
    await until(async () => (await connections(b)) === 2, { timeout: 3000, what: 'two connections' });
    const t0 = Date.now();
    await until(async () => (await connections(b)) === 1, { timeout: 25000, interval: 250, what: 'the dead peer to be dropped' });
    const took = (Date.now() - t0) / 1000;
    assert.ok(took >= 4, `dropped after ${took}s: too early for a 5 s heartbeat`);
    // Its presence ends with it.
    await live.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === deadUser && f.data?.status === 'left', 5000);
    await live.barrier();
    assert.equal(live.ws.readyState, 1, 'the live client was dropped too');
    sock.destroy();
    await closeAll(live);
  });

  test('token expiry: closed with 4001 at exp; refreshed by auth it stays; another user\'s token does not refresh', { timeout: 30000 }, async (t) => {
    const b = await bridgeWith(t, []);
    const alice = uid('alice');
    const short = () => jwt.hs256(jwt.claims({ sub: alice, ttl: 3 }));
    const expiring = await open(b, alice, { tok: short() });
    const watcher = await open(b, uid('watcher'));
    const room = await makeRoom({ owner: watcher.user, members: { [alice]: 'member' } });
    await watcher.join(room);
    await expiring.join(room);
    const refreshed = await open(b, alice, { tok: short() });
    const impostor = await open(b, alice, { tok: short() });
    await refreshed.ok({ type: 'auth', token: jwt.token(alice, { ttl: 3600 }) });
    await impostor.fail({ type: 'auth', token: jwt.token(uid('eve'), { ttl: 3600 }) }, 'UNAUTHORIZED');
    const t0 = Date.now();
    const [c1, c2] = await Promise.all([within(expiring.closed, 8000, 'expiring close'), within(impostor.closed, 8000, 'impostor close')]);
    assert.equal(c1.code, 4001);
    assert.equal(c2.code, 4001);
    // alice's only connection in the room expired: presence says left.
    await watcher.next((f) => f.type === 'event' && f.room === room && f.event === 'presence' && f.data?.user === alice && f.data?.status === 'left', 5000);
    await sleep(Math.max(0, 1500 - (Date.now() - t0)));
    await refreshed.barrier();
    assert.equal(refreshed.ws.readyState, 1, 'the refreshed connection was closed');
    await closeAll(refreshed, watcher);
  });

  test('after auth, the new token\'s exp is the one enforced: closed with 4001 when it passes', { timeout: 30000 }, async (t) => {
    const b = await bridgeWith(t, []);
    const alice = uid('alice');
    const c = await open(b, alice, { tok: jwt.hs256(jwt.claims({ sub: alice, ttl: 2 })) });
    await c.ok({ type: 'auth', token: jwt.hs256(jwt.claims({ sub: alice, ttl: 5 })) });
    const t0 = Date.now();
    const cl = await within(c.closed, 12000, 'close at the refreshed exp');
    assert.equal(cl.code, 4001);
    assert.ok(Date.now() - t0 >= 2500, `closed after ${Date.now() - t0} ms: before the refreshed token expired`);
  });
});

test('close codes: a normal client close is answered with 1000; SIGTERM sends system/shutdown then closes with 1001 and exits 0', { timeout: 30000 }, async () => {
  const b = await new Bridge().start();
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const normal = await open(b, alice);
  normal.ws.close(1000, 'bye');
  assert.equal((await within(normal.closed, 5000, 'normal close')).code, 1000);
  const c = await open(b, alice);
  await c.join(room);
  const stopped = b.stop();
  const sys = await c.next((f) => f.type === 'system' && f.event === 'shutdown', 10000);
  assert.equal(sys.type, 'system');
  assert.equal((await within(c.closed, 10000, 'shutdown close')).code, 1001);
  assert.deepEqual(await stopped, { code: 0, signal: null }, b.log.slice(-2000));
});
