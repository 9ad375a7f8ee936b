// The heartbeat (docs/protocol.md "Connection"): a connection silent for --heartbeat seconds is
// pinged, one silent for twice that is dropped, and any frame from the client counts as heard, not
// only a pong (bridge/session.c check_heartbeat: one clock for every connection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, uid, jwt, rawPeer, connections, until, sleep, requireFlag } from './lib/proto.mjs';

test('--heartbeat: a peer that never answers pings but keeps sending frames is kept; silent, it is dropped', { timeout: 60000 }, async (t) => {
  await requireFlag('--heartbeat');
  const b = await new Bridge({ args: ['--heartbeat', '5'] }).start();
  t.after(async () => {
    const status = await b.stop();
    assert.deepEqual(status, { code: 0, signal: null }, b.log.slice(-3000));
  });
  // A raw peer: it reads what comes (pings included) but never answers a ping with a pong.
  const { sock, sendText } = await rawPeer(b, jwt.token(uid('talker')));
  let received = 0;
  let pings = 0;
  sock.on('data', (d) => {
    received += d.length;
    for (let i = 0; i + 1 < d.length; i++) if (d[i] === 0x89 && d[i + 1] === 4) pings++; // ping, 4-byte payload
  });
  await until(async () => (await connections(b)) === 1, { timeout: 3000, what: 'the peer to be connected' });
  const t0 = Date.now();
  let last = t0;
  while (Date.now() - t0 < 13000) { // past twice the heartbeat, a frame every 2 s
    sendText(JSON.stringify({ type: 'ping' }));
    last = Date.now();
    await sleep(2000);
  }
  assert.equal(await connections(b), 1, 'a peer that sends frames is heard, pong or not');
  assert.ok(received > 0, 'it got the bridge\'s pongs');
  await until(async () => (await connections(b)) === 0, { timeout: 20000, interval: 250, what: 'the silent peer to be dropped' });
  const took = (Date.now() - last) / 1000;
  assert.ok(took >= 9, `dropped ${took}s after its last frame: too early for twice a 5 s heartbeat`);
  assert.ok(pings >= 1, 'it was pinged once silent');
  sock.destroy();
});
