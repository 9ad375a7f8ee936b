// Several bridges on one host share one port (SO_REUSEPORT on the bridge's own listening socket):
// the kernel spreads connections among them, and a bridge that stops hands the port to the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, freePort } from './lib/bridge.mjs';
import { connect } from './lib/client.mjs';
import * as jwt from './lib/jwt.mjs';

async function welcomes(url, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const c = await connect(url, jwt.token(`share${i}`));
    ids.push((await c.next((f) => f.type === 'welcome')).bridge);
    await c.close();
  }
  return ids;
}

test('two bridges on one port both serve; after one stops, the other takes every connection', { timeout: 60000 }, async () => {
  const port = await freePort();
  const a = new Bridge();
  const b = new Bridge();
  a.port = b.port = port;
  await a.start();
  await b.start();
  try {
    const url = `ws://127.0.0.1:${port}/ws`;
    const seen = new Set(await welcomes(url, 32));
    assert.equal(seen.size, 2, `connections reached ${[...seen].join(', ')}`);
    const stopped = await a.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, a.log.slice(-2000));
    const after = new Set(await welcomes(url, 10));
    assert.equal(after.size, 1, 'only the remaining bridge answers');
    assert.ok(seen.has([...after][0]));
  } finally {
    const [stoppedA, stoppedB] = await Promise.all([a.stop(), b.stop()]); // neither may outlive a failure
    assert.deepEqual(stoppedA, { code: 0, signal: null }, a.log.slice(-2000));
    assert.deepEqual(stoppedB, { code: 0, signal: null }, b.log.slice(-2000));
  }
});

test('a port held by another program (without SO_REUSEPORT) stops the bridge at start with a clear error', async () => {
  const net = await import('node:net');
  const { execFile } = await import('node:child_process');
  const { BRIDGE_BIN } = await import('./lib/bridge.mjs');
  const holder = net.createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  try {
    const { code, out } = await new Promise((resolve) => {
      execFile(BRIDGE_BIN, ['--host', '127.0.0.1', '--port', String(holder.address().port)],
        { env: { ...process.env, RT_JWT_SECRET: jwt.DEFAULT_SECRET }, timeout: 10000 },
        (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
    });
    assert.equal(code, 1, out);
    assert.match(out, /event=listen_failed .*Address already in use/);
  } finally {
    holder.close();
  }
});
