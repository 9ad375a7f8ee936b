// docs/protocol.md, "Close codes": 4029 "rate limit exceeded repeatedly", even for a client that floods hard
// and is still sending when the bridge closes it. (Regression: the bridge used to close TCP with the
// client's frames unread, the kernel answered with a RST and the close frame was lost: 1006. It now
// keeps reading, and discarding, until the peer's close or a timeout, as RFC 6455 §7.1.1 says.)
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
