// Who gets a connection: the per-user cap (429), the handshake deadline, the maximum token
// lifetime, and log lines that a hostile `sub` cannot add fields to (docs/configuration.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Bridge, until, sleep } from './lib/bridge.mjs';
import { connect, upgradeStatus } from './lib/client.mjs';
import * as jwt from './lib/jwt.mjs';

async function bridgeWith(t, args) {
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

const uid = (p) => `${p}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

test('--max-connections-per-user: the next upgrade of that user gets 429, others still connect, a slot frees on close', async (t) => {
  const b = await bridgeWith(t, ['--max-connections-per-user', '2']);
  const alice = uid('alice');
  const a1 = await connect(b.wsUrl, jwt.token(alice));
  const a2 = await connect(b.wsUrl, jwt.token(alice));
  assert.equal(await upgradeStatus(b.wsUrl, { token: jwt.token(alice) }), 429);
  assert.equal(await upgradeStatus(b.wsUrl, { token: jwt.token(uid('bob')) }), 101, 'another user is not affected');
  assert.equal(await metric(b, 'pgrt_upgrades_refused_total{reason="per_user"}'), 1);
  await a1.close();
  await until(async () => (await upgradeStatus(b.wsUrl, { token: jwt.token(alice) })) === 101, { timeout: 5000, what: 'a freed slot' });
  await a2.close();
});

test('the default per-user cap is 32 connections', async (t) => {
  const b = await bridgeWith(t, []);
  const alice = uid('alice');
  const cs = await Promise.all(Array.from({ length: 32 }, () => connect(b.wsUrl, jwt.token(alice))));
  assert.equal(await upgradeStatus(b.wsUrl, { token: jwt.token(alice) }), 429);
  await Promise.all(cs.map((c) => c.close()));
});

test('--handshake-timeout: a connection that dribbles its upgrade request is dropped at the deadline and counted', async (t) => {
  const b = await bridgeWith(t, ['--handshake-timeout', '2']);
  const sock = net.connect(b.port, '127.0.0.1');
  await new Promise((resolve) => sock.once('connect', resolve));
  const started = Date.now();
  const closed = new Promise((resolve) => sock.once('close', () => resolve(Date.now() - started)));
  sock.on('error', () => {});
  sock.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  assert.equal(await metric(b, 'pgrt_handshakes_pending'), 1);
  const dribble = setInterval(() => sock.writable && sock.write('X'), 250); // one header byte at a time
  const ms = await closed;
  clearInterval(dribble);
  assert.ok(ms >= 1500 && ms < 5000, `dropped after ${ms} ms (deadline 2 s)`);
  assert.equal(await metric(b, 'pgrt_handshakes_abandoned_total'), 1);
  assert.equal(await metric(b, 'pgrt_handshakes_pending'), 0);
  // A normal client is unaffected and does not count as abandoned.
  const c = await connect(b.wsUrl, jwt.token(uid('carol')));
  await c.close();
  assert.equal(await metric(b, 'pgrt_handshakes_abandoned_total'), 1);
});

test('--jwt-max-lifetime: a token valid for longer is refused with 401, at upgrade and in an auth frame', async (t) => {
  const b = await bridgeWith(t, ['--jwt-max-lifetime', '600']);
  const user = uid('erin');
  assert.equal(await upgradeStatus(b.wsUrl, { token: jwt.token(user, { ttl: 3600 }) }), 401, 'exp - iat = 1 h');
  const now = Math.floor(Date.now() / 1000);
  const old = jwt.hs256({ sub: user, iat: now - 3000, exp: now + 300 });
  assert.equal(await upgradeStatus(b.wsUrl, { token: old }), 401, 'minted 50 min ago for 55 min');
  const noIat = jwt.hs256({ sub: user, exp: now + 3600 });
  assert.equal(await upgradeStatus(b.wsUrl, { token: noIat }), 401, 'no iat: measured from now');
  assert.match(b.log, /event=auth_refused reason=lifetime_too_long/);
  const c = await connect(b.wsUrl, jwt.token(user, { ttl: 300 }));
  const r = await c.request({ type: 'auth', token: jwt.token(user, { ttl: 7200 }) });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, 'UNAUTHORIZED');
  await c.close();
});

/** key=value and key="quoted \" value" pairs of one logfmt line. */
function logfmt(line) {
  const fields = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|$)/y;
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') { i++; continue; }
    re.lastIndex = i;
    const m = re.exec(line);
    assert.ok(m, `not logfmt at ${i}: ${line}`);
    const v = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2];
    fields.push([m[1], v]);
    i = re.lastIndex;
  }
  return fields;
}

test('a sub holding `" =` and spaces is logged as one quoted user field', async (t) => {
  const b = await bridgeWith(t, ['--max-connections-per-user', '1']);
  const sub = `mallory" admin=true level=error x="`;
  const c = await connect(b.wsUrl, jwt.token(sub));
  assert.equal(await upgradeStatus(b.wsUrl, { token: jwt.token(sub) }), 429);
  await c.close();
  await until(() => /event=disconnected/.test(b.log), { what: 'the disconnect line' });
  const lines = b.log.split('\n').filter((l) => / user=/.test(l));
  assert.ok(lines.length >= 3, b.log);
  for (const line of lines) {
    const fields = logfmt(line);
    const keys = fields.map(([k]) => k);
    assert.deepEqual(keys.filter((k) => k === 'admin' || k === 'x'), [], `no forged field: ${line}`);
    assert.equal(keys.filter((k) => k === 'level').length, 1, line);
    assert.equal(fields.find(([k]) => k === 'user')[1], sub, line);
  }
  await sleep(10);
});
