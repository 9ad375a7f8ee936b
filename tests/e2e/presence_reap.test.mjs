// A bridge killed with SIGKILL cannot clean up: another bridge reaps its presence after
// --bridge-stale-seconds and announces the leaves; the dead bridge's clients resume elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge } from './lib/bridge.mjs';
import { connect } from './lib/client.mjs';
import { psql } from './lib/pg.mjs';
import * as jwt from './lib/jwt.mjs';

test('presence of a SIGKILLed bridge is reaped and its users resume on another bridge', { timeout: 60000 }, async () => {
  const room = `reap_${process.pid}_${Date.now()}`;
  await psql(`SELECT rt.create_room('chat', 'alice', NULL, '${room}'); SELECT rt.add_member('${room}', 'bob')`);
  const args = ['--bridge-stale-seconds', '10'];
  const doomed = await new Bridge({ args }).start();
  const survivor = await new Bridge({ args }).start();
  try {
    const alice = await connect(doomed.wsUrl, jwt.token('alice'));
    const joined = await alice.request({ type: 'join', room });
    const bob = await connect(survivor.wsUrl, jwt.token('bob'));
    const seen = (await bob.request({ type: 'join', room })).data.presence;
    assert.deepEqual(seen, ['alice', 'bob'], 'presence spans both bridges');

    await doomed.kill();
    const t0 = Date.now();
    const left = await bob.next((f) => f.event === 'presence' && f.data.user === 'alice' && f.data.status === 'left', 30000);
    const took = (Date.now() - t0) / 1000;
    assert.ok(took <= 20, `reaped within stale (10 s) + one heartbeat interval, took ${took}s`);
    assert.equal(left.room, room);
    assert.equal(await psql(`SELECT count(*) FROM rt.presence WHERE room = '${room}' AND user_id = 'alice'`), '0');

    // alice resumes on the surviving bridge and misses nothing posted meanwhile.
    await psql(`SELECT rt.post_message('${room}', 'bob', 'while alice was away')`);
    const again = await connect(survivor.wsUrl, jwt.token('alice'));
    const reply = await again.request({ type: 'join', room, since: joined.data.seq });
    assert.equal(reply.data.recovered, true);
    const msg = await again.next((f) => f.type === 'event' && f.event === 'message');
    assert.equal(msg.seq, joined.data.seq + 1);
    assert.equal(msg.data.body, 'while alice was away');
  } finally {
    assert.deepEqual(await survivor.stop(), { code: 0, signal: null }, survivor.log.slice(-2000));
  }
});
