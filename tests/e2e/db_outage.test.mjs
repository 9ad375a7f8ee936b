// The bridge starts without a database, reports it, and follows the database going down and up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, until } from './lib/bridge.mjs';
import { Cluster } from './lib/pg.mjs';
import { connect } from './lib/client.mjs';
import * as jwt from './lib/jwt.mjs';

test('/health follows the database: 503 while down, 200 once it is back', { timeout: 90000 }, async () => {
  const cluster = new Cluster();
  cluster.port = await (await import('./lib/bridge.mjs')).freePort();
  // The bridge starts first, against a database that does not exist yet.
  const bridge = await new Bridge({ env: cluster.env }).start({ waitDb: false });
  try {
    let h = await bridge.health();
    assert.equal(h.status, 503);
    assert.equal(h.body.db, 'down');

    await cluster.start();
    cluster.migrate(); /* the bridge LISTENs to the channels rt.channels() names: it needs the schema */
    await bridge.waitDb('up', 20000);
    h = await bridge.health();
    assert.equal(h.status, 200);

    const c = await connect(bridge.wsUrl, jwt.token());
    await c.next((f) => f.type === 'welcome');

    cluster.stop();
    await until(async () => (await bridge.health()).status === 503, { timeout: 10000, what: '503 after stop' });
    assert.equal((await bridge.health()).body.db, 'down');

    // The WebSocket connection survives the outage.
    c.send({ type: 'ping', ref: 'during-outage' });
    await c.next((f) => f.type === 'pong' && f.ref === 'during-outage');

    await cluster.start();
    await bridge.waitDb('up', 20000);
    assert.equal((await bridge.health()).status, 200);
    await c.close();
  } finally {
    const status = await bridge.stop();
    cluster.remove();
    assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
  }
});
