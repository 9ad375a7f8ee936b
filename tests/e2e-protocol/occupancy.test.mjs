// A room above its presence threshold (docs/protocol.md "Presence and occupancy"): join replies carry
// the occupancy and a bounded page, occupancy signals are coalesced per room, the roster frame pages
// who is online, and the count stays right across two bridges, after members leave and after a
// bridge is killed and reaped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, lit, until, checkSignal } from './lib/proto.mjs';

// A long occupancy interval makes the coalescing observable: a burst of joins costs one signal.
const ARGS = ['--bridge-stale-seconds', '10', '--occupancy-interval-ms', '1500'];
let b1, b2;
before(async () => {
  [b1, b2] = await Promise.all([new Bridge({ args: ARGS }).start(), new Bridge({ args: ARGS }).start()]);
});
after(async () => {
  const [s1, s2] = await Promise.all([b1.stop(), b2.stop()]);
  assert.deepEqual(s1, { code: 0, signal: null }, b1.log.slice(-3000));
  assert.deepEqual(s2, { code: 0, signal: null }, b2.log.slice(-3000));
});

/** A room of `n` users (u0 owns it) whose presence threshold is `threshold`. */
async function bigRoom(n, threshold) {
  const base = uid('m');
  const users = Array.from({ length: n }, (_, i) => `${base}_${String(i).padStart(2, '0')}`);
  const room = await makeRoom({ owner: users[0], members: Object.fromEntries(users.slice(1).map((u) => [u, 'member'])) });
  assert.equal(await psql(`SELECT rt.set_presence_threshold(${lit(room)}, ${lit(users[0])}, ${threshold})`), String(threshold));
  return { room, users };
}

const occupancy = (room) => psql(`SELECT rt.occupancy(${lit(room)})`).then(Number);
const lastCount = (c, room) => c.signals(room, 'occupancy').at(-1)?.data.occupancy;

test('above the threshold: occupancy in join replies and coalesced signals, across two bridges; the roster frame pages who is online', async () => {
  const { room, users } = await bigRoom(9, 3);
  // Three join one after another (list mode: the full list, no occupancy, presence signals).
  const first = [];
  for (const [i, u] of users.slice(0, 3).entries()) {
    const c = await open(i % 2 ? b2 : b1, u);
    const d = await c.join(room);
    assert.equal(d.occupancy, undefined, 'at or below the threshold the reply is as it always was');
    assert.deepEqual(d.presence, users.slice(0, i + 1));
    first.push(c);
  }
  const watcher = first[0];
  await watcher.next((f) => f.event === 'presence' && f.data.user === users[2] && f.data.status === 'joined');

  // Five more at once, over both bridges: count mode.
  const rest = await Promise.all(users.slice(3, 8).map((u, i) => open(i % 2 ? b1 : b2, u)));
  const replies = await Promise.all(rest.map((c) => c.join(room)));
  assert.deepEqual(replies.map((d) => d.occupancy).sort((x, y) => x - y), [4, 5, 6, 7, 8],
    'each reply counts the users online when it committed, on either bridge');
  for (const d of replies) {
    assert.ok(d.presence.length <= 20 && d.presence.length >= 3, 'a bounded page of who');
    assert.deepEqual(d.presence, [...d.presence].sort(), 'sorted: the first page of the roster');
  }
  assert.equal(await occupancy(room), 8);
  for (const c of [watcher, first[1], rest[0]]) {
    await until(() => lastCount(c, room) === 8, { timeout: 8000, what: `${c.user} to see occupancy 8` });
    const sig = c.signals(room, 'occupancy').at(-1);
    assert.deepEqual(Object.keys(sig).sort(), ['actor', 'at', 'data', 'event', 'room', 'type'], 'a signal: no seq');
    assert.equal(sig.actor, null, 'no one user caused a coalesced count');
    assert.match(sig.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
  const counts = watcher.signals(room, 'occupancy').map((s) => s.data.occupancy);
  assert.ok(counts.length <= 2, `five joins within one interval: at most two signals (coalesced), got ${JSON.stringify(counts)}`);
  assert.deepEqual(watcher.signals(room, 'presence').map((s) => s.data.user).filter((u) => u !== users[0]), users.slice(1, 3),
    'no presence signal above the threshold');

  // The roster, paged through the bridge.
  const p1 = await watcher.ok({ type: 'roster', room, limit: 5 });
  assert.deepEqual(p1, { room, occupancy: 8, users: users.slice(0, 5), next: users[4] });
  const p2 = await rest[4].ok({ type: 'roster', room, after: p1.next, limit: 5 });
  assert.deepEqual(p2, { room, occupancy: 8, users: users.slice(5, 8), next: null });
  await watcher.fail({ type: 'roster', room, limit: 0 }, 'BAD_REQUEST');
  await watcher.fail({ type: 'roster', room, after: 7 }, 'BAD_REQUEST');
  const stranger = await open(b2, uid('eve'));
  await stranger.fail({ type: 'roster', room }, 'FORBIDDEN');
  stranger.send({ type: 'roster', room });
  const noRef = await stranger.next((f) => f.type === 'error');
  assert.equal(noRef.code, 'BAD_REQUEST');
  assert.match(noRef.message, /roster frame needs a "ref"/);

  // Members leave: the count follows, and below the threshold presence signals come back.
  await closeAll(rest);
  await until(() => lastCount(watcher, room) === 3, { timeout: 8000, what: 'occupancy back to 3' });
  assert.equal(await occupancy(room), 3);
  const before = watcher.signals(room, 'presence').length;
  await first[2].ok({ type: 'leave', room });
  const left = await watcher.next((f) => f.event === 'presence' && f.data.user === users[2] && f.data.status === 'left');
  checkSignal(left, { room, event: 'presence' });
  assert.equal(watcher.signals(room, 'presence').length, before + 1);
  assert.equal(await occupancy(room), 2);
  assert.deepEqual((await watcher.ok({ type: 'roster', room })).users, users.slice(0, 2));
  await closeAll(first, stranger);
  await until(async () => (await occupancy(room)) === 0, { timeout: 5000, what: 'everyone gone' });
});

test('a killed bridge is reaped: its users are counted out in one occupancy signal', { timeout: 60000 }, async () => {
  const { room, users } = await bigRoom(8, 2);
  const doomed = await new Bridge({ args: ARGS }).start();
  try {
    const watcher = await open(b1, users[0]);
    await watcher.join(room);
    const other = await open(b2, users[1]);
    await other.join(room);
    const victims = await Promise.all(users.slice(2).map((u) => open(doomed, u)));
    await Promise.all(victims.map((c) => c.join(room)));
    assert.equal(await occupancy(room), 8);
    await until(() => lastCount(watcher, room) === 8, { timeout: 8000, what: 'occupancy 8' });

    await doomed.kill();
    const t0 = Date.now();
    await until(() => lastCount(watcher, room) === 2 && lastCount(other, room) === 2,
      { timeout: 30000, interval: 100, what: 'the reaped users counted out on both bridges' });
    assert.ok((Date.now() - t0) / 1000 <= 25, 'within the stale time and a heartbeat');
    assert.equal(await occupancy(room), 2);
    assert.equal(await psql(`SELECT count(*) FROM rt.presence WHERE room = ${lit(room)}`), '2');
    const after = watcher.signals(room, 'occupancy').filter((s) => s.data.occupancy < 8);
    assert.deepEqual(after.map((s) => s.data.occupancy), [2], 'one signal for the six users that went');
    assert.equal(watcher.signals(room, 'presence').filter((s) => s.data.status === 'left').length, 0);
    await closeAll(watcher, other);
  } finally {
    await doomed.kill().catch(() => {});
  }
});
