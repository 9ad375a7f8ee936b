// The bridge's front door: JWT admission before the upgrade, welcome, ping/pong, malformed frames,
// /health, frame size limit, and a clean SIGTERM.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Bridge, until } from './lib/bridge.mjs';
import { psql } from './lib/pg.mjs';
import { connect, upgradeStatus, Client } from './lib/client.mjs';
import * as jwt from './lib/jwt.mjs';

describe('HS256 bridge', () => {
  let bridge;
  before(async () => { bridge = await new Bridge().start(); });
  after(async () => {
    const status = await bridge.stop();
    assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-2000));
  });

  test('/health reports the database up with HTTP 200', async () => {
    const { status, body } = await bridge.health();
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.db, 'up');
    assert.equal(typeof body.connections, 'number');
    assert.equal(typeof body.bridge, 'string');
  });

  const refused = {
    'no token': () => undefined,
    'a malformed token': () => 'not-a-jwt',
    'a token with garbage segments': () => 'a.b.c',
    'a bad signature': () => jwt.hs256(jwt.claims(), 'some-other-secret'),
    'an expired token': () => jwt.hs256(jwt.claims({ ttl: -60 })),
    'a token without exp': () => jwt.hs256({ sub: 'alice' }),
    'a token without sub': () => jwt.hs256({ exp: Math.floor(Date.now() / 1000) + 60 }),
    'a token not valid yet (nbf)': () => jwt.hs256(jwt.claims({ nbf: Math.floor(Date.now() / 1000) + 600 })),
    'alg none': () => jwt.unsigned(jwt.claims()),
    'alg none with a signature': () => jwt.unsigned(jwt.claims()) + 'c2ln',
    'another HMAC algorithm (HS512)': () => jwt.hs256(jwt.claims(), jwt.DEFAULT_SECRET, 'HS512'),
    'an oversized token': () => jwt.hs256(jwt.claims({ pad: 'x'.repeat(9000) })),
  };
  for (const [name, make] of Object.entries(refused)) {
    test(`refuses ${name} with HTTP 401 before the upgrade`, async () => {
      assert.equal(await upgradeStatus(bridge.wsUrl, { token: make() }), 401);
    });
  }

  test('refuses a Bearer header with a bad token with 401', async () => {
    const headers = { Authorization: `Bearer ${jwt.hs256(jwt.claims(), 'wrong')}` };
    assert.equal(await upgradeStatus(bridge.wsUrl, { headers }), 401);
  });

  test('accepts the token from the Authorization header', async () => {
    const c = await connect(bridge.wsUrl, undefined, { headers: { Authorization: `Bearer ${jwt.token('bob')}` } });
    const welcome = await c.next((f) => f.type === 'welcome');
    assert.equal(welcome.user, 'bob');
    await c.close();
  });

  test('welcome is the first frame and names connection, user, bridge and heartbeat', async () => {
    const c = await connect(bridge.wsUrl, jwt.token('alice'));
    const first = await c.next(() => true);
    assert.equal(first.type, 'welcome');
    assert.equal(first.user, 'alice');
    assert.match(first.conn, /^\S+$/);
    assert.equal(first.bridge, (await bridge.health()).body.bridge);
    assert.equal(typeof first.heartbeat, 'number');
    await c.close();
  });

  test('ping gets pong, with and without ref', async () => {
    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');
    c.send({ type: 'ping', ref: 'p1' });
    assert.deepEqual(await c.next((f) => f.type === 'pong'), { type: 'pong', ref: 'p1' });
    c.send({ type: 'ping' });
    assert.deepEqual(await c.next((f) => f.type === 'pong'), { type: 'pong' });
    await c.close();
  });

  const malformed = {
    'text that is not JSON': '{"type":',
    'a JSON array': '[1,2]',
    'a JSON number': '42',
    'a JSON string': '"ping"',
    'invalid UTF-8': Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    'duplicate keys': '{"type":"ping","type":"ping"}',
  };
  for (const [name, raw] of Object.entries(malformed)) {
    test(`${name} gets an error frame with BAD_REQUEST and the connection stays usable`, async () => {
      const c = await connect(bridge.wsUrl, jwt.token());
      await c.next((f) => f.type === 'welcome');
      c.ws.send(raw, { binary: false });
      const err = await c.next((f) => f.type === 'error');
      assert.equal(err.code, 'BAD_REQUEST');
      assert.equal(err.retry, false);
      assert.equal(typeof err.message, 'string');
      c.send({ type: 'ping', ref: 'after' });
      await c.next((f) => f.type === 'pong' && f.ref === 'after');
      await c.close();
    });
  }

  test('a frame with a ref but a bad type gets a reply with BAD_REQUEST', async () => {
    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');
    const reply = await c.request({ type: 'no-such-type' });
    assert.equal(reply.ok, false);
    assert.equal(reply.error.code, 'BAD_REQUEST');
    await c.close();
  });

  test('a non-string ref gets an error frame', async () => {
    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');
    c.send({ type: 'ping', ref: 7 });
    assert.equal((await c.next((f) => f.type === 'error')).code, 'BAD_REQUEST');
    await c.close();
  });

  test('a frame over the size limit closes with 1009', async () => {
    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');
    c.send({ type: 'ping', pad: 'x'.repeat(200 * 1024) });
    assert.equal((await c.closed).code, 1009);
  });

  test('a fragmented frame is reassembled', async () => {
    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');
    const text = JSON.stringify({ type: 'ping', ref: 'frag', pad: 'y'.repeat(10000) });
    c.ws.send(text.slice(0, 5000), { fin: false });
    c.ws.send(text.slice(5000), { fin: true });
    await c.next((f) => f.type === 'pong' && f.ref === 'frag');
    await c.close();
  });

  test('plain HTTP to /ws and unknown paths get JSON errors, not a crash', async () => {
    assert.equal((await fetch(`${bridge.url}/ws`)).status, 400);
    assert.equal((await fetch(`${bridge.url}/../../etc/passwd`)).status, 404);
    assert.equal((await fetch(`${bridge.url}/nope.html`)).status, 404);
    assert.equal((await fetch(`${bridge.url}/health`, { method: 'POST' })).status, 405);
  });
});

describe('RS256 bridge', () => {
  let bridge, keys, dir;
  before(async () => {
    keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgrt-rs256-'));
    const pub = keys.publicKey.export({ type: 'spki', format: 'pem' });
    fs.writeFileSync(path.join(dir, 'pub.pem'), pub);
    bridge = await new Bridge({
      args: ['--jwt-alg', 'RS256', '--jwt-public-key-file', path.join(dir, 'pub.pem')],
      env: { RT_JWT_SECRET: '' },
    }).start();
  });
  after(async () => {
    assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('accepts a valid RS256 token', async () => {
    const c = await connect(bridge.wsUrl, jwt.rs256(jwt.claims({ sub: 'carol' }), keys.privateKey));
    assert.equal((await c.next((f) => f.type === 'welcome')).user, 'carol');
    await c.close();
  });

  test('refuses algorithm confusion: HS256 signed with the public key as secret', async () => {
    const pub = fs.readFileSync(path.join(dir, 'pub.pem'));
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.hs256(jwt.claims(), pub) }), 401);
  });

  test('refuses an RS256 token signed by another key', async () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.rs256(jwt.claims(), other.privateKey) }), 401);
  });

  test('refuses alg none', async () => {
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.unsigned(jwt.claims()) }), 401);
  });
});

describe('SIGTERM', () => {
  test('sends system/shutdown, closes with 1001, refuses new upgrades, exits 0', async () => {
    const bridge = await new Bridge({ args: ['--shutdown-grace-ms', '3000'] }).start();
    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');
    const stopped = bridge.stop();
    const shutdown = await c.next((f) => f.type === 'system');
    assert.equal(shutdown.event, 'shutdown');
    assert.equal((await c.closed).code, 1001);
    assert.deepEqual(await stopped, { code: 0, signal: null }, bridge.log.slice(-2000));
  });
});

describe('SIGTERM with commands in flight', () => {
  test('a command waiting on the database when SIGTERM comes is committed and replied to before the 1001 close', async () => {
    const bridge = await new Bridge({ args: ['--shutdown-grace-ms', '10000'] }).start();
    const room = `term_${process.pid}_${Date.now()}`;
    await psql(`SELECT rt.create_room('chat', 'alice', NULL, '${room}')`);
    const c = await connect(bridge.wsUrl, jwt.token('alice'));
    await c.request({ type: 'join', room });
    // psql holds the room row, so the send waits inside PostgreSQL while the bridge is told to stop.
    const locker = spawn('psql', ['-X', '-At', '-c',
      `BEGIN; SELECT 1 FROM rt.rooms WHERE id = '${room}' FOR UPDATE; SELECT pg_sleep(1.5); COMMIT;`]);
    const lockerDone = new Promise((r) => locker.on('exit', r));
    await until(async () => Number(await psql(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' AND state = 'active' AND pid <> pg_backend_pid()`)) === 1,
      { what: 'psql to hold the room row' });
    const reply = c.request({ type: 'send', room, body: 'in flight at SIGTERM', client_msg_id: 'term-1' }, 10000);
    await until(async () => Number(await psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%rt.batch%'`)) === 1,
      { what: 'the send to wait for the lock' });
    const stopped = bridge.stop();
    await c.next((f) => f.type === 'system' && f.event === 'shutdown');
    const r = await reply;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await c.closed).code, 1001);
    assert.equal(await psql(`SELECT body FROM rt.messages WHERE room = '${room}' AND client_msg_id = 'term-1'`), 'in flight at SIGTERM');
    await lockerDone;
    assert.deepEqual(await stopped, { code: 0, signal: null }, bridge.log.slice(-2000));
  });
});

describe('configuration errors', () => {
  test('a bridge without a JWT key refuses to start and says why', async () => {
    const b = new Bridge({ env: { RT_JWT_SECRET: '' } });
    await assert.rejects(b.start({ waitDb: false }));
    const { code } = await b.exited;
    assert.notEqual(code, 0);
    assert.match(b.log, /secret/);
  });

  test('an invalid setting exits with status 2 and names it', async () => {
    const b = new Bridge({ args: ['--port', 'eighty'] });
    await assert.rejects(b.start({ waitDb: false }));
    assert.equal((await b.exited).code, 2);
    assert.match(b.log, /--port/);
  });
});

void Client;
