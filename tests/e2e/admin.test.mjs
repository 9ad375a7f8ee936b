// /admin/connections and POST /admin/broadcast: 401 without a valid token, 403 for a non-admin,
// and for an admin: the connection list, and a broadcast that reaches every connection.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge } from './lib/bridge.mjs';
import { connect } from './lib/client.mjs';
import { psql } from './lib/pg.mjs';
import * as jwt from './lib/jwt.mjs';

describe('admin endpoints', () => {
  let bridge;
  const admin = () => ({ Authorization: `Bearer ${jwt.token('ops', { role: 'admin' })}` });
  before(async () => { bridge = await new Bridge().start(); });
  after(async () => {
    assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
  });

  const cases = {
    'no token': {},
    'a malformed header': { Authorization: 'Token abc' },
    'a badly signed token': { Authorization: `Bearer ${jwt.hs256(jwt.claims({ role: 'admin' }), 'wrong-secret')}` },
    'an expired admin token': { Authorization: `Bearer ${jwt.hs256(jwt.claims({ role: 'admin', ttl: -5 }))}` },
  };
  for (const [name, headers] of Object.entries(cases)) {
    test(`${name}: 401 on both endpoints`, async () => {
      assert.equal((await fetch(`${bridge.url}/admin/connections`, { headers })).status, 401);
      const r = await fetch(`${bridge.url}/admin/broadcast`, { method: 'POST', headers, body: '{"event":"x","data":{}}' });
      assert.equal(r.status, 401);
      assert.equal((await r.json()).error.code, 'UNAUTHORIZED');
    });
  }

  test('a valid non-admin token: 403 on both endpoints, and nothing is broadcast', async () => {
    const headers = { Authorization: `Bearer ${jwt.token('alice')}` };
    const c = await connect(bridge.wsUrl, jwt.token('watcher'));
    await c.next((f) => f.type === 'welcome');
    assert.equal((await fetch(`${bridge.url}/admin/connections`, { headers })).status, 403);
    const r = await fetch(`${bridge.url}/admin/broadcast`, { method: 'POST', headers, body: '{"event":"sneaky","data":{}}' });
    assert.equal(r.status, 403);
    await assert.rejects(c.next((f) => f.type === 'system', 500));
    await c.close();
  });

  test('an admin lists the connections with their rooms and queue depth', async () => {
    const room = `adm_${process.pid}_${Date.now()}`;
    await psql(`SELECT rt.create_room('chat', 'alice', NULL, '${room}')`);
    const c = await connect(bridge.wsUrl, jwt.token('alice'));
    await c.request({ type: 'join', room });
    const r = await fetch(`${bridge.url}/admin/connections`, { headers: admin() });
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.bridge, (await bridge.health()).body.bridge);
    const mine = body.connections.find((x) => x.user === 'alice');
    assert.ok(mine, JSON.stringify(body));
    assert.deepEqual(mine.rooms, [room]);
    assert.match(mine.connected_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(typeof mine.queued_frames, 'number');
    assert.equal(typeof mine.queued_bytes, 'number');
    await c.close();
  });

  test('an admin broadcast reaches every connection as a system frame, after the database accepted it', async () => {
    const a = await connect(bridge.wsUrl, jwt.token('u1'));
    const b = await connect(bridge.wsUrl, jwt.token('u2'));
    const r = await fetch(`${bridge.url}/admin/broadcast`, { method: 'POST', headers: admin(),
      body: JSON.stringify({ event: 'notice', data: { text: 'maintenance at noon' } }) });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), { ok: true });
    for (const c of [a, b]) {
      const f = await c.next((x) => x.type === 'system' && x.event === 'notice');
      assert.deepEqual(f.data, { text: 'maintenance at noon' });
    }
    await a.close();
    await b.close();
  });

  const bad = {
    'not JSON': '{"event":',
    'no event': '{"data":{}}',
    'a non-object data': '{"event":"x","data":[1]}',
    'an invalid event name (refused by rt.broadcast)': '{"event":"Bad Name!","data":{}}',
  };
  for (const [name, body] of Object.entries(bad)) {
    test(`an admin broadcast with ${name} is 400 and sends nothing`, async () => {
      const c = await connect(bridge.wsUrl, jwt.token('u3'));
      await c.next((f) => f.type === 'welcome');
      const r = await fetch(`${bridge.url}/admin/broadcast`, { method: 'POST', headers: admin(), body });
      assert.equal(r.status, 400);
      assert.equal((await r.json()).error.code, 'BAD_REQUEST');
      await assert.rejects(c.next((f) => f.type === 'system', 300));
      await c.close();
    });
  }

  test('an oversized broadcast body is 413', async () => {
    const r = await fetch(`${bridge.url}/admin/broadcast`, { method: 'POST', headers: admin(),
      body: JSON.stringify({ event: 'x', data: { pad: 'p'.repeat(70000) } }) });
    assert.equal(r.status, 413);
  });

  test('wrong methods and unknown admin paths', async () => {
    assert.equal((await fetch(`${bridge.url}/admin/connections`, { method: 'POST', headers: admin(), body: '{}' })).status, 405);
    assert.equal((await fetch(`${bridge.url}/admin/broadcast`, { headers: admin() })).status, 405);
    assert.equal((await fetch(`${bridge.url}/admin/nope`, { headers: admin() })).status, 404);
  });
});
