// Frame authentication (docs/protocol.md "Connecting", extension): an upgrade that lists the
// `pgrt.auth` subprotocol may carry no token; its first frame must be {"type":"auth","token":JWT},
// checked exactly like an upgrade's token, and only then comes `welcome`. Anything else closes the
// connection with the documented code (docs/protocol.md "Close codes"), runs nothing, and counts no
// user; connections waiting for their auth frame are bounded (--max-unauthenticated-connections).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, until, sleep } from './lib/bridge.mjs';
import { Client, connect, upgradeStatus } from './lib/client.mjs';
import { psql } from './lib/pg.mjs';
import * as jwt from './lib/jwt.mjs';

const PROTOCOL = 'pgrt.auth';
const uid = (p) => `${p}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

async function bridgeWith(t, args = []) {
  const b = await new Bridge({ args }).start();
  t.after(async () => {
    const status = await b.stop();
    assert.deepEqual(status, { code: 0, signal: null }, b.log.slice(-3000));
  });
  return b;
}

async function metric(bridge, sample) {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `${sample} is exported`);
  return Number(line.slice(sample.length + 1));
}

/** An open pgrt.auth connection (no token in the URL) that has sent nothing yet. */
async function unauthenticated(bridge) {
  const c = new Client(bridge.wsUrl, { protocols: [PROTOCOL] });
  await c.opened();
  assert.equal(c.ws.protocol, PROTOCOL, 'the bridge echoes the subprotocol (browsers require it)');
  return c;
}

/** Sends `frames` as the first frames and resolves to how the bridge closed, asserting no frame came. */
async function refusedWith(bridge, ...frames) {
  const c = await unauthenticated(bridge);
  for (const f of frames) c.ws.send(f instanceof Buffer || typeof f === 'string' ? f : JSON.stringify(f));
  const closed = await Promise.race([c.closed, sleep(8000).then(() => ({ code: 'still open' }))]);
  assert.deepEqual(c.frames, [], 'nothing is sent before authentication, welcome included');
  return closed;
}

test('pgrt.auth: no token in the URL, the auth frame first, then welcome; the connection works as the user', async (t) => {
  const b = await bridgeWith(t);
  const alice = uid('alice');
  const room = uid('room');
  await psql(`SELECT rt.create_room('chat', '${alice}', NULL, '${room}')`);
  const c = await unauthenticated(b);
  assert.equal(await metric(b, 'pgrt_connections_unauthenticated'), 1);
  assert.equal(await metric(b, 'pgrt_connections'), 0, 'a connection without a user is not counted as one');
  c.send({ type: 'auth', token: jwt.token(alice) });
  const first = await c.next(() => true);
  assert.equal(first.type, 'welcome', JSON.stringify(first));
  assert.equal(first.user, alice);
  assert.equal(await metric(b, 'pgrt_connections_unauthenticated'), 0);
  assert.equal(await metric(b, 'pgrt_connections'), 1);
  assert.equal((await c.request({ type: 'join', room })).ok, true);
  const sent = await c.request({ type: 'send', room, body: 'by frame' });
  assert.equal(sent.ok, true);
  assert.equal(sent.data.actor, alice);
  // A later auth frame is the usual refresh: it needs a ref and the same user.
  assert.equal((await c.request({ type: 'auth', token: jwt.token(uid('mallory')) })).error.code, 'UNAUTHORIZED');
  await c.close();
});

test('pgrt.auth: an auth frame with a ref, and frames sent right behind it, are fine; the ref gets no reply', async (t) => {
  const b = await bridgeWith(t);
  const c = await unauthenticated(b);
  c.send({ type: 'auth', token: jwt.token(uid('bob')), ref: 'a1' });
  c.send({ type: 'ping', ref: 'p1' });
  assert.equal((await c.next(() => true)).type, 'welcome');
  assert.deepEqual(await c.next(() => true), { type: 'pong', ref: 'p1' });
  await sleep(200);
  assert.deepEqual(c.frames, []);
  await c.close();
});

test('pgrt.auth: a refused token closes with 4001 and the reason, for every check of the upgrade path', async (t) => {
  const b = await bridgeWith(t, ['--jwt-max-lifetime', '7200']);
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['bad_signature', jwt.hs256(jwt.claims({ sub: 'x' }), 'another-secret')],
    ['expired', jwt.hs256({ sub: 'x', iat: now - 100, exp: now - 10 })],
    ['not_yet_valid', jwt.hs256({ sub: 'x', nbf: now + 600, exp: now + 1200 })],
    ['wrong_alg', jwt.hs256(jwt.claims({ sub: 'x' }), jwt.DEFAULT_SECRET, 'HS384')],
    ['lifetime_too_long', jwt.token('x', { ttl: 10 * 3600 })],
    ['bad_claims', jwt.hs256({ exp: now + 60 })],
    ['malformed', 'no-dots-here'],
    ['too_long', 'a'.repeat(9000)],
  ];
  for (const [why, token] of cases) {
    const closed = await refusedWith(b, { type: 'auth', token });
    assert.equal(closed.code, 4001, `${why}: ${JSON.stringify(closed)}`);
    assert.equal(closed.reason, `token refused: ${why}`);
  }
  const none = await refusedWith(b, { type: 'auth', token: jwt.unsigned(jwt.claims({ sub: 'x' })) });
  assert.equal(none.code, 4001, 'alg none');
  assert.match(none.reason, /^token refused: /);
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="auth"}'), cases.length + 1);
  assert.equal(await metric(b, 'pgrt_connections_unauthenticated'), 0);
  assert.match(b.log, /event=auth_refused reason=expired via=frame/);
  const huge = await refusedWith(b, { type: 'auth', token: 'a'.repeat(20000) });
  assert.equal(huge.code, 1009, 'a first frame beyond a token of the longest length: frame too large');
});

test('pgrt.auth: any other first frame closes with 4000 and nothing it asked for is run', async (t) => {
  const b = await bridgeWith(t);
  const alice = uid('alice');
  const room = uid('room');
  await psql(`SELECT rt.create_room('chat', '${alice}', NULL, '${room}')`);
  const events = async () => Number(await psql(`SELECT count(*) FROM rt.events WHERE room = '${room}'`));
  const before = await events();
  const firsts = [
    // A command with the token right behind it: the command is not run, the token is not read.
    [{ type: 'send', room, ref: 's', body: 'before auth' }, { type: 'auth', token: jwt.token(alice) }],
    [{ type: 'join', room, ref: 'j' }],
    [{ type: 'auth', ref: 'a' }],
    [{ type: 'auth', token: 12 }],
    ['{"type":"auth","token":"x"'],
    [Buffer.from(JSON.stringify({ type: 'auth', token: jwt.token(alice) }))], // binary
    [{ type: 'ping' }],
  ];
  for (const frames of firsts) {
    const closed = await refusedWith(b, ...frames);
    assert.equal(closed.code, 4000, `${JSON.stringify(frames).slice(0, 80)}: ${JSON.stringify(closed)}`);
    assert.match(closed.reason, /first frame must be/);
  }
  await sleep(300);
  assert.equal(await events(), before, 'no command of an unauthenticated connection reached the database');
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="first_frame"}'), firsts.length);
  assert.equal(await metric(b, 'pgrt_commands_total{type="send",outcome="ok"}').catch(() => 0), 0);
});

test('pgrt.auth: no auth frame within --handshake-timeout closes with 4008', async (t) => {
  const b = await bridgeWith(t, ['--handshake-timeout', '1']);
  const started = Date.now();
  const closed = await refusedWith(b);
  const ms = Date.now() - started;
  assert.equal(closed.code, 4008, JSON.stringify(closed));
  assert.match(closed.reason, /no auth frame/);
  assert.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms (deadline 1 s, checked every second)`);
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="auth_timeout"}'), 1);
  assert.equal(await metric(b, 'pgrt_connections_unauthenticated'), 0);
});

test('pgrt.auth: the per-user cap and a rate-limit penalty close with 4029, like their 429s on the upgrade', async (t) => {
  const b = await bridgeWith(t, ['--max-connections-per-user', '1', '--rate-limit', '1', '--rate-burst', '2',
    '--rate-limit-close-after', '3']);
  const alice = uid('alice');
  const a = await connect(b.wsUrl, jwt.token(alice));
  const capped = await refusedWith(b, { type: 'auth', token: jwt.token(alice) });
  assert.deepEqual(capped, { code: 4029, reason: 'too many connections for this user' });
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="per_user"}'), 1);
  // Another user is not affected.
  const bob = await unauthenticated(b);
  bob.send({ type: 'auth', token: jwt.token(uid('bob')) });
  assert.equal((await bob.next(() => true)).type, 'welcome');
  await bob.close();

  // Flood until the bridge closes alice with 4029: her next connection by frame is refused too.
  for (let i = 0; i < 10; i++) a.send({ type: 'ping' });
  assert.equal((await a.closed).code, 4029);
  const penalized = await refusedWith(b, { type: 'auth', token: jwt.token(alice) });
  assert.equal(penalized.code, 4029);
  assert.match(penalized.reason, /^rate limited: retry after \d+ s$/);
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="rate_limit"}'), 1);
});

test('--max-unauthenticated-connections bounds connections waiting for their auth frame (503); token upgrades are not affected', async (t) => {
  const b = await bridgeWith(t, ['--max-unauthenticated-connections', '2', '--max-connections', '2']);
  const w1 = await unauthenticated(b);
  const w2 = await unauthenticated(b);
  assert.equal(await metric(b, 'pgrt_connections_unauthenticated'), 2);
  assert.equal(await upgradeStatus(b.wsUrl, { protocols: [PROTOCOL] }), 503);
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="unauthenticated"}'), 1);
  // They hold no slot of --max-connections: two users with tokens still get in, filling the bridge...
  const u1 = await connect(b.wsUrl, jwt.token(uid('carol')));
  const u2 = await connect(b.wsUrl, jwt.token(uid('dave')));
  // ...so a waiting connection that authenticates now finds it full: 1013, like the upgrade's 503.
  w1.send({ type: 'auth', token: jwt.token(uid('erin')) });
  assert.deepEqual(await w1.closed, { code: 1013, reason: 'bridge full: try again later' });
  assert.deepEqual(w1.frames, []);
  await u1.close();
  await until(async () => (await metric(b, 'pgrt_connections')) === 1, { what: 'a free slot' });
  await until(async () => (await metric(b, 'pgrt_connections_unauthenticated')) === 1, { what: 'w1 gone' });
  const w3 = await unauthenticated(b); // w1's place is free again
  w3.send({ type: 'auth', token: jwt.token(uid('frank')) });
  assert.equal((await w3.next(() => true)).type, 'welcome');
  // Shutdown closes a waiting connection with 1001 too.
  const stopping = b.stop();
  assert.equal((await w2.closed).code, 1001);
  assert.deepEqual(await stopping, { code: 0, signal: null }, b.log.slice(-3000));
  await Promise.all([u2.closed, w3.closed]);
  b.stop = async () => ({ code: 0, signal: null });
});

test('without a token and without pgrt.auth an upgrade still gets 401; a token in the URL wins over pgrt.auth', async (t) => {
  const b = await bridgeWith(t);
  assert.equal(await upgradeStatus(b.wsUrl, {}), 401);
  assert.equal(await upgradeStatus(b.wsUrl, { protocols: ['pgrt'] }), 401);
  assert.equal(await upgradeStatus(b.wsUrl, { protocols: [PROTOCOL], token: 'bad' }), 401, 'a bad token in the URL');
  const c = new Client(b.wsUrl, { protocols: [PROTOCOL], token: jwt.token(uid('gina')) });
  await c.opened();
  assert.equal((await c.next(() => true)).type, 'welcome', 'authenticated by the upgrade: welcome at once');
  await c.close();
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="auth"}'), 3);
  assert.match(b.log, /event=auth_refused reason=malformed via=upgrade/);
});
