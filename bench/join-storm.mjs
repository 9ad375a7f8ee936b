#!/usr/bin/env node
// Join storm: N members join one room as fast as the bridge admits them, and we count the presence
// frames every member receives until the room is quiet. Without coalescing that is ~N^2/2 frames.
//
//   node bench/join-storm.mjs [N=1000] [interval_ms=100 ...]
// Needs PG* variables for a migrated database and build/rt-bridge. Prints one line per interval.
import { Bridge, sleep } from '../tests/e2e/lib/bridge.mjs';
import { connect } from '../tests/e2e/lib/client.mjs';
import { psql } from '../tests/e2e/lib/pg.mjs';
import { token } from '../tests/e2e/lib/jwt.mjs';

const n = Number(process.argv[2] || 1000);
const intervals = process.argv.slice(3).map(Number);
if (intervals.length === 0) intervals.push(100, 0);

async function storm(intervalMs) {
  const room = `storm_${intervalMs}_${Date.now()}`;
  await psql(`SELECT rt.create_room('chat', 'm0', NULL, '${room}');
              SELECT rt.add_member('${room}', 'm' || g) FROM generate_series(1, ${n - 1}) AS g`);
  const bridge = await new Bridge({
    args: ['--presence-interval-ms', String(intervalMs), '--max-connections', String(n + 10), '--log-level', 'warn'],
  }).start();
  try {
    const clients = [];
    for (let i = 0; i < n; i += 50) { // bounded connect rate: 50 at a time
      clients.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => connect(bridge.wsUrl, token(`m${i + k}`)))));
    }
    const started = Date.now();
    await Promise.all(clients.map((c) => c.request({ type: 'join', room }, 60000)));
    const joined = Date.now() - started;
    let last = -1, count = 0;
    for (;;) { // quiet for a second: every presence frame has arrived
      await sleep(1000);
      count = clients.reduce((sum, c) => sum + c.frames.filter((f) => f.event === 'presence' || f.event === 'presence_batch').length, 0);
      if (count === last) break;
      last = count;
    }
    const users = clients.reduce((sum, c) => sum + c.frames.filter((f) => f.event === 'presence').length +
      c.frames.filter((f) => f.event === 'presence_batch').reduce((s, f) => s + f.data.joined.length + f.data.left.length, 0), 0);
    console.log(`members=${n} presence_interval_ms=${intervalMs} join_all_ms=${joined} presence_frames=${count} ` +
                `presence_changes_carried=${users} frames_per_member=${(count / n).toFixed(1)}`);
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await bridge.stop();
    await psql(`DELETE FROM rt.presence WHERE room = '${room}'`).catch(() => {});
  }
}

for (const interval of intervals) await storm(interval);
