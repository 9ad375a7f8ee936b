// Frames are written at the end of the loop turn that queued them, directly, one write per client
// for all of them (bridge/session.c `flush_all`; docs/operations.md `pgrt_socket_writes_total`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, until } from './lib/bridge.mjs';
import { connect } from './lib/client.mjs';
import { psql } from './lib/pg.mjs';
import * as jwt from './lib/jwt.mjs';

async function counters(bridge) {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const get = (name) => Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1]);
  return {
    frames: get('pgrt_frames_sent_total'),
    writes: get('pgrt_socket_writes_total'),
    waits: get('pgrt_socket_write_waits_total'),
  };
}

/** A masked client text frame (RFC 6455 5.2), for payloads under 126 bytes. */
function maskedText(text) {
  const payload = Buffer.from(text);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
}

test('frames queued in one loop turn reach a client in one write', async () => {
  const bridge = await new Bridge().start();
  try {
    const c = await connect(bridge.wsUrl, jwt.token('alice'));
    c.send({ type: 'ping', ref: 'first' });
    await c.next((f) => f.type === 'pong' && f.ref === 'first');
    const before = await counters(bridge);
    assert.ok(Number.isInteger(before.writes) && Number.isInteger(before.waits), 'both counters are exported');
    // 20 pings in one TCP segment: the bridge reads them in one turn and queues 20 pongs.
    const refs = Array.from({ length: 20 }, (_, i) => `burst${i}`);
    const pongs = Promise.all(refs.map((ref) => c.next((f) => f.type === 'pong' && f.ref === ref)));
    c.ws._socket.write(Buffer.concat(refs.map((ref) => maskedText(JSON.stringify({ type: 'ping', ref })))));
    await pongs;
    const after = await counters(bridge);
    assert.equal(after.frames - before.frames, 20);
    // One write for the burst (two if the kernel happened to hand the segment over in two reads).
    assert.ok(after.writes - before.writes <= 2, `20 pongs took ${after.writes - before.writes} writes`);
    assert.equal(after.waits, before.waits, 'a client that reads never waits for its socket');
    await c.close();
  } finally {
    await bridge.stop();
  }
});

test('a room of readers: every event delivered, writes never more than frames, no waits', async () => {
  const bridge = await new Bridge().start();
  try {
    const room = `sw_${process.pid}_${Date.now()}`;
    await psql(`SELECT rt.create_room('chat', 'm0', NULL, '${room}');
                SELECT rt.add_member('${room}', 'm' || i) FROM generate_series(1, 9) i`);
    const members = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(bridge.wsUrl, jwt.token(`m${i}`))));
    await Promise.all(members.map((m) => m.request({ type: 'join', room })));
    const before = await counters(bridge);
    for (let i = 0; i < 5; i++) await members[i].request({ type: 'send', room, body: `hello ${i}` });
    await Promise.all(members.map((m) => until(() => m.frames.filter((f) => f.type === 'event' && f.event === 'message').length === 5,
      { what: 'five messages at every member' })));
    const after = await counters(bridge);
    assert.ok(after.frames - before.frames >= 55, 'five events to ten members and five replies');
    assert.ok(after.writes - before.writes <= after.frames - before.frames);
    assert.equal(after.waits, before.waits);
    await Promise.all(members.map((m) => m.close()));
  } finally {
    await bridge.stop();
  }
});
