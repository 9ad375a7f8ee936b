// setup: what the client and browser tests share: real bridges (tests/e2e/lib), rooms made through
// the SQL API with psql, clients of web/pgrt.js on the `ws` package, and event collectors.
// The database is the one the PG* variables point at (scripts/test.sh exports them), migrated.
import WebSocket from 'ws';
import { connect } from '../../../web/pgrt.js';
import { token } from '../../e2e/lib/jwt.mjs';
import { psql } from '../../e2e/lib/pg.mjs';

export { Bridge, until, sleep, ROOT } from '../../e2e/lib/bridge.mjs';
export { token, psql };

/** A unique id (room ids and user ids): tests share one database and may run again. */
export const uid = (prefix) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** SQL string literal. */
export const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** Creates a room owned by `owner` with the given members ({user: role}); returns its id. */
export async function makeRoom(kind, owner, members = {}, title = 'Test room') {
  const id = uid(kind);
  const adds = Object.entries(members).map(([u, role]) => `SELECT rt.add_member(${lit(id)}, ${lit(u)}, ${lit(role)});`);
  await psql(`SELECT rt.create_room(${lit(kind)}, ${lit(owner)}, ${lit(title)}, ${lit(id)}); ${adds.join(' ')}`);
  return id;
}

/** The room's persisted events, ascending, straight from the log. */
export async function logEvents(room) {
  const out = await psql(`SELECT e::text FROM rt.events_since(${lit(room)}, 0, 1000) e`);
  return out ? out.split('\n').map((l) => JSON.parse(l)) : [];
}

/** A pgrt.js client for `user` on `urls` (one bridge URL or several). */
export function client(urls, user, opts = {}) {
  return connect({ url: urls, token: token(user), WebSocket, backoffInitial: 100, backoffMax: 1000, ...opts });
}

/** Every persisted event the application is handed for a room, in delivery order. */
export function collect(room) {
  const seen = [];
  room.on('event', (ev) => seen.push(ev));
  return seen;
}

/** Asserts what docs/protocol.md ("Delivery guarantees") promises the application: each seq once, ascending, no gaps. */
export function checkSequence(events, from = null) {
  const seqs = events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1] + 1) return `seq ${seqs[i]} follows ${seqs[i - 1]}: ${JSON.stringify(seqs)}`;
  }
  if (from !== null && seqs.length && seqs[0] !== from) return `first seq ${seqs[0]}, expected ${from}`;
  return null;
}
