// docs/protocol.md, "Errors": UNAVAILABLE (database unreachable; retry true). Every frame type that needs the
// database gets a prompt UNAVAILABLE reply with retry:true while PostgreSQL is down (never a hang, the
// connection stays), nothing half-done is left, and commands work again once it is back.
// Uses a private PostgreSQL cluster (it is stopped); PGRT_PROTO_PG_PORT picks its port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../e2e/lib/pg.mjs';
import { Bridge, BRIDGE_BIN, open, closeAll, uid, psql, lit, until, checkError, freePort } from './lib/proto.mjs';

const run = promisify(execFile);

test('database down: every DB-backed frame gets UNAVAILABLE retry:true promptly; ping still works; back up, commands work', { timeout: 120000 }, async (t) => {
  const cluster = new Cluster();
  cluster.port = Number(process.env.PGRT_PROTO_PG_PORT) || await freePort();
  await cluster.start();
  t.after(() => cluster.remove());
  const env = cluster.env;
  await run(BRIDGE_BIN, ['migrate'], { env: { ...process.env, ...env } });
  const alice = uid('alice');
  const room = uid('room');
  await psql(`SELECT rt.create_room('conversation', ${lit(alice)}, NULL, ${lit(room)})`, env);
  const msg = JSON.parse(await psql(`SELECT rt.post_message(${lit(room)}, ${lit(alice)}, 'hi')`, env));
  const b = await new Bridge({ env, args: ['--db-retry-max-ms', '500'] }).start();
  t.after(async () => {
    const status = await b.stop();
    assert.deepEqual(status, { code: 0, signal: null }, b.log.slice(-3000));
  });
  const c = await open(b, alice);
  await c.join(room);

  cluster.stop();
  await until(async () => (await b.health()).status === 503, { timeout: 15000, what: '/health 503' });
  const frames = [
    { type: 'join', room, since: 0 }, { type: 'leave', room }, { type: 'send', room, body: 'lost?' },
    { type: 'publish', room, event: 'status', data: {} }, { type: 'signal', room, event: 'typing', data: {} },
    { type: 'state', room, to: 'LISTENING' }, { type: 'edit', room, seq: msg.seq, body: 'x' },
    { type: 'delete', room, seq: msg.seq }, { type: 'read', room, seq: 1 }, { type: 'history', room },
  ];
  for (const f of frames) {
    const t0 = Date.now();
    const r = await c.request(f, 10000).catch((e) => { throw new Error(`${f.type} with the database down: ${e.message}; bridge log: ${b.log.split('\n').slice(-8).join(' | ')}`); });
    assert.equal(r.ok, false, `${f.type} succeeded with the database down: ${JSON.stringify(r)}`);
    checkError(r.error);
    assert.equal(r.error.code, 'UNAVAILABLE', `${f.type}: ${JSON.stringify(r.error)}`);
    assert.equal(r.error.retry, true);
    assert.ok(Date.now() - t0 < 8000, `${f.type}: UNAVAILABLE took ${Date.now() - t0} ms`);
  }
  await c.barrier();
  assert.equal(c.ws.readyState, 1, 'the outage closed the connection');

  await cluster.start();
  await b.waitDb('up', 30000);
  // Nothing from the outage was stored.
  assert.equal(await psql(`SELECT count(*) FROM rt.events WHERE room = ${lit(room)}`, env), '2');
  const d = await c.join(room);
  const ev = await c.ok({ type: 'send', room, body: 'after the outage' });
  assert.equal(ev.seq, d.seq + 1);
  await c.waitSeq(room, ev.seq);
  await closeAll(c);
});
