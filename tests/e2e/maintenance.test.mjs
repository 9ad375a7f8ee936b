// Maintenance mode lives in the database: switching it on makes every bridge refuse new upgrades
// with 503 and tell connected clients; switching it off restores service without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, until } from './lib/bridge.mjs';
import { connect, upgradeStatus } from './lib/client.mjs';
import { psql } from './lib/pg.mjs';
import * as jwt from './lib/jwt.mjs';

test('maintenance on/off is followed by every bridge, without a restart', { timeout: 60000 }, async () => {
  const one = await new Bridge().start();
  const two = await new Bridge().start();
  try {
    const a = await connect(one.wsUrl, jwt.token('alice'));
    const b = await connect(two.wsUrl, jwt.token('bob'));
    await psql(`SELECT rt.set_maintenance(true, 'Upgrading, back soon')`);
    for (const c of [a, b]) {
      const f = await c.next((x) => x.type === 'system' && x.event === 'maintenance');
      assert.equal(f.data.active, true);
      assert.equal(f.data.message, 'Upgrading, back soon');
    }
    for (const br of [one, two]) {
      await until(async () => (await br.health()).body.maintenance === true, { what: 'maintenance in /health' });
      assert.equal(await upgradeStatus(br.wsUrl, { token: jwt.token('carol') }), 503);
      assert.equal((await br.health()).status, 200, 'the bridge itself is healthy');
    }
    // Connected clients keep working during maintenance.
    a.send({ type: 'ping', ref: 'still-here' });
    await a.next((f) => f.type === 'pong' && f.ref === 'still-here');

    // A bridge started during maintenance reads the switch at start.
    const three = await new Bridge().start();
    await until(async () => (await three.health()).body.maintenance === true, { what: 'a new bridge to see maintenance' });
    assert.equal(await upgradeStatus(three.wsUrl, { token: jwt.token('dave') }), 503);

    await psql('SELECT rt.set_maintenance(false)');
    for (const br of [one, two, three]) {
      await until(async () => (await br.health()).body.maintenance === false, { what: 'maintenance off' });
      assert.equal(await upgradeStatus(br.wsUrl, { token: jwt.token('carol') }), 101);
    }
    const off = await a.next((x) => x.type === 'system' && x.event === 'maintenance' && x.data.active === false);
    assert.equal(off.data.message, null);
    assert.deepEqual(await three.stop(), { code: 0, signal: null });
    await a.close();
    await b.close();
  } finally {
    await psql('SELECT rt.set_maintenance(false)');
    assert.deepEqual(await one.stop(), { code: 0, signal: null }, one.log.slice(-2000));
    assert.deepEqual(await two.stop(), { code: 0, signal: null }, two.log.slice(-2000));
  }
});
