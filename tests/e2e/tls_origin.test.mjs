// TLS (https:// and wss:// with a self-signed pair made here) and the Origin allowlist (403 at upgrade).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Bridge } from './lib/bridge.mjs';
import { upgradeStatus } from './lib/client.mjs';
import * as jwt from './lib/jwt.mjs';

describe('TLS', () => {
  let dir, bridge, ca;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgrt-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'pipe' });
    ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    bridge = new Bridge({ args: ['--tls-cert-file', path.join(dir, 'cert.pem'), '--tls-key-file', path.join(dir, 'key.pem')] });
    bridge.scheme = 'https';
    await bridge.start({ waitDb: false });
  });
  after(async () => {
    assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url) => new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });

  test('https /health answers over TLS with the test CA', async () => {
    let r;
    for (let i = 0; i < 100; i++) {
      r = await get(`https://127.0.0.1:${bridge.port}/health`);
      if (JSON.parse(r.body).db === 'up') break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).db, 'up');
  });

  test('an untrusted certificate is refused by a verifying client', async () => {
    await assert.rejects(new Promise((resolve, reject) => {
      https.get(`https://127.0.0.1:${bridge.port}/health`, resolve).on('error', reject);
    }));
  });

  test('a WebSocket session over wss://: welcome, ping/pong', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${bridge.port}/ws?token=${jwt.token('tls-user')}`, { ca });
    const frames = [];
    const next = () => new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d))));
    const welcome = await next();
    frames.push(welcome);
    assert.equal(welcome.type, 'welcome');
    assert.equal(welcome.user, 'tls-user');
    ws.send(JSON.stringify({ type: 'ping', ref: 'over-tls' }));
    assert.deepEqual(await next(), { type: 'pong', ref: 'over-tls' });
    ws.close();
  });

  test('a bad token over wss:// is still refused with 401 before the upgrade', async () => {
    const status = await new Promise((resolve) => {
      const ws = new WebSocket(`wss://127.0.0.1:${bridge.port}/ws?token=bad`, { ca });
      ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
      ws.on('error', () => {});
    });
    assert.equal(status, 401);
  });
});

describe('Origin allowlist', () => {
  let bridge;
  before(async () => {
    bridge = await new Bridge({ args: ['--allowed-origins', 'https://app.example, http://localhost:3000'] }).start();
  });
  after(async () => {
    assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
  });

  test('a listed Origin upgrades', async () => {
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.token(), origin: 'https://app.example' }), 101);
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.token(), origin: 'http://localhost:3000' }), 101);
  });

  test('another Origin is refused with 403 before the upgrade, even with a valid token', async () => {
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.token(), origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.token(), origin: 'https://app.example.evil' }), 403);
  });

  test('a client without an Origin header (not a browser) is not affected', async () => {
    assert.equal(await upgradeStatus(bridge.wsUrl, { token: jwt.token() }), 101);
  });
});
