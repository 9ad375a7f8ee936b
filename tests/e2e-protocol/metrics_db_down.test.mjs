// /metrics while the database is down: every command refused with UNAVAILABLE is counted once, under its own
// frame type (not "other"), whichever path refused it (the pool already down, or a connection lost with the
// command in flight). Uses a private PostgreSQL cluster (it is stopped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../e2e/lib/pg.mjs';
import { Bridge, BRIDGE_BIN, open, closeAll, uid, psql, lit, until, freePort } from './lib/proto.mjs';

const run = promisify(execFile);

async function commandCounts(bridge) {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const counts = {};
  for (const m of text.matchAll(/^pgrt_commands_total\{type="([a-z_]+)",outcome="([A-Z_a-z]+)"\} (\d+)$/gm)) {
    counts[`${m[1]}/${m[2]}`] = Number(m[3]);
  }
  return counts;
}

test('database down: UNAVAILABLE refusals are counted under their frame type', { timeout: 120000 }, async (t) => {
  const cluster = new Cluster();
  cluster.port = await freePort();
  await cluster.start();
  t.after(() => cluster.remove());
  const env = cluster.env;
  await run(BRIDGE_BIN, ['migrate'], { env: { ...process.env, ...env } });
  const alice = uid('alice');
  const room = uid('room');
  await psql(`SELECT rt.create_room('chat', ${lit(alice)}, NULL, ${lit(room)})`, env);
  const b = await new Bridge({ env, args: ['--db-retry-max-ms', '500'] }).start();
  t.after(async () => {
    const status = await b.stop();
    assert.deepEqual(status, { code: 0, signal: null }, b.log.slice(-3000));
  });
  const c = await open(b, alice);
  await c.join(room);
  const before = await commandCounts(b);

  cluster.stop();
  await until(async () => (await b.health()).status === 503, { timeout: 15000, what: '/health 503' });
  const types = ['send', 'history', 'send', 'publish'];
  const frames = { send: { type: 'send', room, body: 'x' }, history: { type: 'history', room },
    publish: { type: 'publish', room, event: 'status', data: {} } };
  for (const type of types) {
    const r = await c.request(frames[type], 10000);
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'UNAVAILABLE', JSON.stringify(r));
  }
  const after = await commandCounts(b);
  const delta = (k) => (after[k] ?? 0) - (before[k] ?? 0);
  assert.equal(delta('send/UNAVAILABLE'), 2, `send refusals: ${JSON.stringify(after)}`);
  assert.equal(delta('history/UNAVAILABLE'), 1, `history refusals: ${JSON.stringify(after)}`);
  assert.equal(delta('publish/UNAVAILABLE'), 1, `publish refusals: ${JSON.stringify(after)}`);
  assert.equal(delta('other/UNAVAILABLE'), 0, 'nothing counted as "other"');
  await closeAll(c);
});
