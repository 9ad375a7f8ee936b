// proto: helpers for the WebSocket protocol tests, written from docs/protocol.md (frames, errors, delivery guarantees).
// Builds on tests/e2e/lib (Bridge, Client, jwt, psql) and adds: unique names, rooms made from SQL,
// a client that keeps a full log of every frame, shape checks for the contract's frames, event-log
// queries, and small process helpers (RSS, background psql scripts, --help flags).
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Client } from '../../e2e/lib/client.mjs';
import { BRIDGE_BIN, sleep, until } from '../../e2e/lib/bridge.mjs';
import { psql } from '../../e2e/lib/pg.mjs';
import * as jwt from '../../e2e/lib/jwt.mjs';

export { Bridge, BRIDGE_BIN, sleep, until, freePort } from '../../e2e/lib/bridge.mjs';
export { psql } from '../../e2e/lib/pg.mjs';
export { jwt };

export const CODES = ['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT',
  'INVALID_TRANSITION', 'TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL'];

/** Whether the bridge under test is the sanitizer build (memory figures mean little there). */
export const SANITIZED = /asan|sanitize/i.test(BRIDGE_BIN) || !!process.env.ASAN_OPTIONS;

/** A fresh id usable as room id and user id (unique per test run). */
export function uid(prefix = 'x') {
  return `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
}

/** SQL string literal. */
export function lit(s) {
  return s === null || s === undefined ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`;
}

/** Creates a room from SQL (owner first) and adds members: {user: role}. Returns the id. */
export async function makeRoom({ kind = 'chat', owner, members = {}, id = uid('room') } = {}) {
  let sql = `SELECT rt.create_room(${lit(kind)}, ${lit(owner)}, NULL, ${lit(id)});`;
  for (const [user, role] of Object.entries(members)) sql += `SELECT rt.add_member(${lit(id)}, ${lit(user)}, ${lit(role)});`;
  await psql(sql);
  return id;
}

/** rt.events of a room as [{seq, event, actor}] in seq order. */
export async function dbEvents(room) {
  const out = await psql(`SELECT coalesce(json_agg(json_build_object('seq', seq, 'event', event, 'actor', actor) ORDER BY seq), '[]')
                          FROM rt.events WHERE room = ${lit(room)}`);
  return JSON.parse(out);
}

export async function eventCount(room) {
  return Number(await psql(`SELECT count(*) FROM rt.events WHERE room = ${lit(room)}`));
}

export async function lastSeq(room) {
  return Number(await psql(`SELECT coalesce(max(seq), 0) FROM rt.events WHERE room = ${lit(room)}`));
}

/** Runs a psql script from stdin: every statement commits on its own (unlike psql -c "a; b"). */
export function psqlScript(sql, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`psql exited ${code}: ${err}`))));
    p.stdin.end(sql);
  });
}

/** A client that keeps every frame it received in `log` (Client.next consumes its buffer). */
export class PClient extends Client {
  constructor(url, opts) {
    super(url, opts);
    this.log = [];
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) { this.log.push({ binary: data }); return; }
      try { this.log.push(JSON.parse(data.toString())); } catch { this.log.push({ unparsable: data.toString() }); }
    });
  }

  /**
   * As Client.next, but its timer does not keep the process alive, and a waiter fails at once when
   * the connection closes (with the close code in the message).
   */
  next(match, timeout = 5000) {
    const seen = this.frames.find(match);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const w = { match };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching frame within ${timeout} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`));
      }, timeout);
      timer.unref();
      w.resolve = (f) => { clearTimeout(timer); this.frames.splice(this.frames.indexOf(f), 1); resolve(f); };
      this.waiters.push(w);
      this.closed.then((cl) => {
        // Let frames that arrived just before the close match first.
        setImmediate(() => {
          if (!this.waiters.includes(w)) return;
          this.waiters = this.waiters.filter((x) => x !== w);
          clearTimeout(timer);
          reject(new Error(`connection closed (${cl.code} ${cl.reason}) before a matching frame; got ${JSON.stringify(this.frames).slice(0, 300)}`));
        });
      });
    });
  }

  /** Persisted events of a room, in arrival order. */
  events(room) { return this.log.filter((f) => f.type === 'event' && f.room === room && f.seq !== undefined); }

  seqs(room) { return this.events(room).map((e) => e.seq); }

  signals(room, event) {
    return this.log.filter((f) => f.type === 'event' && f.room === room && f.seq === undefined && (!event || f.event === event));
  }

  replies(ref) { return this.log.filter((f) => f.type === 'reply' && f.ref === ref); }

  /** Sends and returns the reply; asserts it is ok and returns its data. */
  async ok(frame, timeout) {
    const r = await this.request(frame, timeout);
    assert.equal(r.ok, true, `${frame.type} ${JSON.stringify(frame).slice(0, 200)} failed: ${JSON.stringify(r)}`);
    checkReply(r);
    return r.data;
  }

  /** Sends and returns the reply's error; asserts the reply is an error with the given code. */
  async fail(frame, code, timeout) {
    const r = await this.request(frame, timeout);
    assert.equal(r.ok, false, `${frame.type} ${JSON.stringify(frame).slice(0, 200)} unexpectedly ok: ${JSON.stringify(r).slice(0, 300)}`);
    checkReply(r);
    if (code) assert.equal(r.error.code, code, `${JSON.stringify(frame).slice(0, 200)} → ${JSON.stringify(r.error)}`);
    return r.error;
  }

  join(room, extra = {}, timeout) { return this.ok({ type: 'join', room, ...extra }, timeout); }

  /** A round trip through the bridge: a ping with a ref, answered by the bridge itself. */
  async barrier(timeout = 5000) {
    const ref = `b${++PClient.n}`;
    const p = this.next((f) => f.type === 'pong' && f.ref === ref, timeout);
    this.send({ type: 'ping', ref });
    await p;
  }

  /** Waits until this client has received the event with the given seq of a room. */
  async waitSeq(room, seq, timeout = 10000) {
    let closed = null;
    this.closed.then((cl) => { closed = cl; });
    await until(() => {
      if (this.log.some((f) => f.type === 'event' && f.room === room && f.seq >= seq)) return true;
      if (closed) {
        throw Object.assign(new Error(`${this.user}: connection closed (${closed.code} ${closed.reason}) while waiting for ${room} seq ${seq}; ` +
          `got ${this.seqs(room).length} events, last ${this.seqs(room).at(-1)}`), { fatal: true });
      }
      return false;
    },
      { timeout, interval: 20, what: `${this.user} to receive ${room} seq ${seq} (has ${JSON.stringify(this.seqs(room).slice(-5))})` });
  }
}
PClient.n = 0;

/** Opens a connection for `user` (or with `tok`) and waits for the welcome frame. */
export async function open(bridge, user, { tok, ...opts } = {}) {
  const c = new PClient(bridge.wsUrl, { token: tok ?? jwt.token(user), ...opts });
  c.user = user;
  await c.opened();
  c.welcome = await c.next((f) => f.type === 'welcome');
  return c;
}

export async function closeAll(...clients) {
  await Promise.all(clients.flat().filter(Boolean).map((c) => (c.ws.readyState <= 1 ? c.close() : null)));
}

/** Contract shape of a reply frame. */
export function checkReply(r) {
  assert.equal(r.type, 'reply');
  assert.equal(typeof r.ref, 'string');
  assert.equal(typeof r.ok, 'boolean');
  if (r.ok) {
    assert.ok(r.data && typeof r.data === 'object' && !Array.isArray(r.data), `reply data must be an object: ${JSON.stringify(r)}`);
  } else {
    checkError(r.error);
  }
}

/** Contract shape of an error object: {code, message, retry}, with a message that leaks no SQL. */
export function checkError(e) {
  assert.ok(e && typeof e === 'object', `error object missing: ${JSON.stringify(e)}`);
  assert.ok(CODES.includes(e.code), `unknown error code ${e.code}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0, 'empty error message');
  assert.equal(typeof e.retry, 'boolean');
  assert.equal(e.retry, ['RATE_LIMITED', 'UNAVAILABLE'].includes(e.code), `retry flag of ${e.code}`);
  assertNoSqlLeak(e.message);
}

const LEAKS = [/\bSELECT\b/i, /\bINSERT\b/, /\bUPDATE\b/, /\bFROM rt\./i, /\brt\.[a-z_]+\(/, /PL\/pgSQL/i, /SQLSTATE/i,
  /CONTEXT:/, /\bERROR:/, /\bline \d+\b/, /\$\d/, /statement/i, /libpq/i, /\.c:\d+/, /pg_/, /syntax error/i];

export function assertNoSqlLeak(message) {
  for (const re of LEAKS) assert.doesNotMatch(message, re, `error message leaks internals: ${message}`);
}

/** Contract shape of a persisted event frame. */
export function checkEvent(ev, { room, event, actor } = {}) {
  assert.equal(ev.type, 'event');
  assert.equal(typeof ev.room, 'string');
  assert.ok(Number.isInteger(ev.seq) && ev.seq >= 1, `event seq: ${JSON.stringify(ev)}`);
  assert.equal(typeof ev.event, 'string');
  // actor: the acting user; null only for system events caused by a trusted SQL call without actor
  // (e.g. rt.add_member(room, user) from psql).
  assert.ok(typeof ev.actor === 'string' || (ev.actor === null && ['member_added', 'member_removed', 'user_erased'].includes(ev.event)),
    `event actor: ${JSON.stringify(ev)}`);
  assert.match(ev.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$/, `at is ISO 8601: ${ev.at}`);
  assert.ok(ev.data && typeof ev.data === 'object' && !Array.isArray(ev.data), 'event data is an object');
  if (room) assert.equal(ev.room, room);
  if (event) assert.equal(ev.event, event);
  if (actor) assert.equal(ev.actor, actor);
}

/** Contract shape of a signal frame: an event without seq. */
export function checkSignal(ev, { room, event, actor } = {}) {
  assert.equal(ev.type, 'event');
  assert.equal('seq' in ev, false, `a signal carries no seq: ${JSON.stringify(ev)}`);
  assert.equal(typeof ev.event, 'string');
  assert.equal(typeof ev.actor, 'string');
  assert.match(ev.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$/);
  assert.ok(ev.data && typeof ev.data === 'object');
  if (room) assert.equal(ev.room, room);
  if (event) assert.equal(ev.event, event);
  if (actor) assert.equal(ev.actor, actor);
}

/** Asserts that seqs is exactly from..to, each once, ascending. */
export function assertSeqRange(seqs, from, to, what = 'seqs') {
  const want = [];
  for (let s = from; s <= to; s++) want.push(s);
  if (seqs.length === want.length && seqs.every((s, i) => s === want[i])) return;
  const dups = seqs.filter((s, i) => seqs.indexOf(s) !== i);
  const missing = want.filter((s) => !seqs.includes(s));
  const disorder = seqs.findIndex((s, i) => i > 0 && s <= seqs[i - 1]);
  assert.fail(`${what}: want ${from}..${to} once each in order; got ${seqs.length} values, ` +
    `missing ${JSON.stringify(missing.slice(0, 20))}, duplicates ${JSON.stringify(dups.slice(0, 20))}, ` +
    `first disorder at index ${disorder} (${JSON.stringify(seqs.slice(Math.max(0, disorder - 3), disorder + 3))})`);
}

/** The bridge's --help text (cached) and whether it documents a flag. */
let helpText;
export function bridgeHelp() {
  if (helpText === undefined) {
    helpText = new Promise((resolve) => execFile(BRIDGE_BIN, ['--help'], (err, stdout, stderr) => resolve(stdout + stderr)));
  }
  return helpText;
}

export async function requireFlag(flag) {
  const help = await bridgeHelp();
  assert.ok(new RegExp(`(^|\\s)${flag}(\\s|=|$)`, 'm').test(help), `rt-bridge --help does not list ${flag} (not implemented yet?)`);
}

/** Resident set size of a process in KiB, from /proc. */
export function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

/** The number of open WebSocket connections the bridge reports on /health. */
export async function connections(bridge) {
  return (await bridge.health()).body.connections;
}

/** Races a promise against a timeout; rejects with `what` on timeout. */
export function within(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms); })])
    .finally(() => clearTimeout(t));
}

export { sleep as pause };

/**
 * A raw WebSocket peer: upgrades by hand over TCP and then only does what the test says (it never
 * answers pings). Returns {sock, sendText(str)}; sendText writes one masked text frame.
 */
export async function rawPeer(bridge, tok) {
  const net = await import('node:net');
  const sock = net.connect(bridge.port, '127.0.0.1');
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  const key = crypto.randomBytes(16).toString('base64');
  sock.write(`GET /ws?token=${encodeURIComponent(tok)} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const head = await new Promise((resolve) => {
    let s = '';
    sock.on('data', function onData(d) { s += d.toString('latin1'); if (s.includes('\r\n\r\n')) { sock.off('data', onData); resolve(s); } });
  });
  if (!/^HTTP\/1.1 101/.test(head)) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
  const sendText = (str) => {
    const payload = Buffer.from(str);
    const mask = crypto.randomBytes(4);
    let header;
    if (payload.length < 126) header = Buffer.from([0x81, 0x80 | payload.length]);
    else if (payload.length < 65536) { header = Buffer.alloc(4); header[0] = 0x81; header[1] = 0x80 | 126; header.writeUInt16BE(payload.length, 2); }
    else { header = Buffer.alloc(10); header[0] = 0x81; header[1] = 0x80 | 127; header.writeBigUInt64BE(BigInt(payload.length), 2); }
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
    sock.write(Buffer.concat([header, mask, masked]));
  };
  return { sock, sendText };
}
