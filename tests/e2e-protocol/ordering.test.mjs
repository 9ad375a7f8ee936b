// docs/protocol.md "Ordering": one connection's database commands commit in the order it sent them and
// their replies come back in that order, also when the bridge batches many connections' commands into one
// rt.batch; frames the bridge answers itself may overtake. And the batch counters count commands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, open, closeAll, makeRoom, uid, psql, lit, until } from './lib/proto.mjs';

let bridge;
// One database connection: commands of concurrent clients queue behind each other and go out batched.
before(async () => { bridge = await new Bridge({ args: ['--db-pool-size', '1'] }).start(); });
after(async () => {
  const status = await bridge.stop();
  assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
});

/** Sends every frame at once (no waiting), each with ref `${tag}${i}`; resolves to the replies in arrival order. */
async function burst(c, frames, tag) {
  const refs = frames.map((_, i) => `${tag}${i}`);
  frames.forEach((f, i) => c.send({ ...f, ref: refs[i] }));
  await until(() => refs.every((r) => c.log.some((f) => f.type === 'reply' && f.ref === r)),
    { timeout: 30000, what: `${c.user}: replies to ${tag}*` });
  return c.log.filter((f) => f.type === 'reply' && refs.includes(f.ref));
}

async function metric(name) {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line.split(' ')[1]);
}

test('one connection: replies in send order, commits in send order, failures in their place', async () => {
  const alice = uid('alice');
  const [a, b] = [await makeRoom({ owner: alice }), await makeRoom({ owner: alice })];
  const closed = await makeRoom({ owner: uid('carol') }); // alice is no member: FORBIDDEN
  const c = await open(bridge, alice);
  await c.join(a);
  await c.join(b);
  const frames = [];
  for (let i = 0; i < 60; i++) {
    if (i % 10 === 7) frames.push({ type: 'send', room: closed, body: `no ${i}` });
    else frames.push({ type: 'send', room: i % 2 ? a : b, body: `m${i}` });
  }
  const replies = await burst(c, frames, 'o');
  assert.deepEqual(replies.map((r) => r.ref), frames.map((_, i) => `o${i}`), 'replies arrive in the order sent');
  replies.forEach((r, i) => assert.equal(r.ok, i % 10 !== 7, `reply ${i}: ${JSON.stringify(r).slice(0, 200)}`));
  for (const room of [a, b]) {
    const sent = frames.filter((f) => f.room === room).map((f) => f.body);
    const ok = replies.filter((r) => r.ok && r.data.room === room);
    assert.deepEqual(ok.map((r) => r.data.data.body), sent, `${room}: each send's reply carries its own message`);
    const seqs = ok.map((r) => r.data.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `${room}: seq grows in send order`);
    const stored = (await psql(`SELECT string_agg(body, ',' ORDER BY seq) FROM rt.messages WHERE room = ${lit(room)}`));
    assert.equal(stored, sent.join(','), `${room}: committed in send order`);
  }
  await closeAll(c);
});

test('many connections batched together: each connection keeps its order; batched-commands counts commands', async () => {
  const users = Array.from({ length: 8 }, () => uid('u'));
  const room = await makeRoom({ owner: users[0], members: Object.fromEntries(users.slice(1).map((u) => [u, 'member'])) });
  const clients = await Promise.all(users.map((u) => open(bridge, u)));
  await Promise.all(clients.map((c) => c.join(room)));
  const [batches0, commands0] = [await metric('pgrt_db_batches_total'), await metric('pgrt_db_batched_commands_total')];
  const per = 25;
  const all = await Promise.all(clients.map((c, k) =>
    burst(c, Array.from({ length: per }, (_, i) => ({ type: 'send', room, body: `${k}:${i}` })), `c${k}_`)));
  all.forEach((replies, k) => {
    assert.deepEqual(replies.map((r) => r.ref), Array.from({ length: per }, (_, i) => `c${k}_${i}`), `client ${k}: replies in order`);
    assert.ok(replies.every((r) => r.ok), `client ${k}: all sends ok`);
    const seqs = replies.map((r) => r.data.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `client ${k}: its sends committed in its order`);
  });
  const stored = (await psql(`SELECT body FROM rt.messages WHERE room = ${lit(room)} ORDER BY seq`)).split('\n');
  users.forEach((_, k) => {
    const mine = stored.filter((s) => s.startsWith(`${k}:`));
    assert.deepEqual(mine, Array.from({ length: per }, (_, i) => `${k}:${i}`), `client ${k}: stored in its order`);
  });
  const batches = (await metric('pgrt_db_batches_total')) - batches0;
  const commands = (await metric('pgrt_db_batched_commands_total')) - commands0;
  assert.equal(commands, users.length * per, 'pgrt_db_batched_commands_total counts every command sent in a batch');
  assert.ok(batches < commands, `commands waiting for the one database connection went out together (${commands} commands in ${batches} batches)`);
  await closeAll(clients);
});

test('frames the bridge answers itself are not held behind database commands', async () => {
  const alice = uid('alice');
  const room = await makeRoom({ owner: alice });
  const c = await open(bridge, alice);
  await c.join(room);
  const frames = Array.from({ length: 20 }, (_, i) => ({ type: 'send', room, body: `p${i}` }));
  const replies = burst(c, frames.slice(0, 20), 'q');
  c.send({ type: 'ping', ref: 'the-ping' });
  await replies;
  const order = c.log.filter((f) => (f.type === 'reply' && f.ref.startsWith('q')) || f.type === 'pong').map((f) => f.ref);
  assert.ok(order.indexOf('the-ping') < order.indexOf('q19'), `a ping sent after 20 sends is answered before the last of them: ${order}`);
  await closeAll(c);
});
