// CONTRACT §5: close code 4029 "rate limit exceeded repeatedly". Deviation: a flooding client that is
// still sending when the bridge closes it usually sees 1006 (abnormal closure), not 4029: the bridge
// closes the TCP connection while the client's frames are still unread in its receive buffer, so the
// kernel answers with a RST and the client's kernel drops the close frame that was already on its
// way. (RFC 6455 §7.1.1: after sending a Close frame, keep reading, and discard, until the peer's
// Close or a timeout, then close TCP.) Observed: 7 of 10 floods closed with 1006. The suite's own
// 4029 test sends more gently and passes most of the time, which is why this one floods hard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, uid, makeRoom, sleep } from '../e2e-protocol/lib/proto.mjs';

test('ten hard floods are each closed with 4029, never 1006', { timeout: 60000 }, async (t) => {
  const b = await new Bridge({ args: ['--rate-limit', '20', '--rate-burst', '20', '--rate-limit-close-after', '30'] }).start();
  t.after(() => b.stop());
  const room = await makeRoom({ owner: uid('owner') });
  const codes = [];
  for (let k = 0; k < 10; k++) {
    const f = await open(b, uid('flooder'));
    let closed = null;
    f.closed.then((c) => { closed = c; });
    const t0 = Date.now();
    while (!closed && Date.now() - t0 < 10000) {
      for (let i = 0; i < 50 && f.ws.readyState === 1; i++) f.send({ type: 'history', room, ref: `x${i}`, pad: 'p'.repeat(8000) });
      await sleep(2);
    }
    codes.push((await f.closed).code);
  }
  assert.deepEqual(codes, Array(10).fill(4029));
});
