// pgrt.js: the browser (and Node) client of a pgrt bridge. One dependency-free ES module.
//
//   import { connect } from '/pgrt.js';
//   const client = connect({ token, getToken });
//   const room = client.join('general', { onEvent: (ev) => render(ev) });
//   await room.send('hello');
//
// What it guarantees the application (docs/client.md has the whole reference):
// - each persisted event of a joined room is handed over once, in seq order, across reconnects:
//   rooms are rejoined with `since` = the last seq delivered, duplicates are dropped and gaps are
//   filled from `history` before anything newer is delivered;
// - sends are idempotent (every send carries a client_msg_id), so a send made offline or cut by a
//   disconnect is queued and written again after the rejoin, and the room stores it once;
// - every command settles: with the reply's data, or a PgrtError (server codes of docs/protocol.md "Errors",
//   plus TIMEOUT, DISCONNECTED, OFFLINE, QUEUE_FULL, CLOSED, LEFT, TOO_LARGE from the client).

const DEFAULTS = {
  timeout: 10000,            // ms to wait for a reply once a frame is written
  backoffInitial: 500,       // ms, first reconnect delay (before jitter)
  backoffMax: 15000,         // ms, cap of the exponential reconnect delay
  rateLimitedDelay: 30000,   // ms, least delay after close 4029 (rate limit exceeded repeatedly)
  stableAfter: 5000,         // ms a connection must stay up before the backoff starts over
  maxQueue: 1000,            // commands waiting for a connection; more are refused (QUEUE_FULL)
  maxFrameBytes: 131072,     // the bridge closes with 1009 above its limit: refuse such frames here
  retries: 3,                // resends of idempotent commands answered with retry:true
  typingInterval: 3000,      // ms between two typing signals sent by room.typing()
  typingExpiry: 6000,        // ms after which a silent typer is no longer shown as typing
  replayGrace: 3000,         // ms after a join reply before missing replayed events are fetched
  refreshBefore: 60,         // s before the token's exp at which getToken() is asked for a new one
  tokenIn: 'frame',          // 'frame': the token goes in the first frame, never in the URL; 'query': ?token=
};

// The subprotocol asking the bridge to take the token from the first frame (docs/protocol.md "Connecting").
const AUTH_PROTOCOL = 'pgrt.auth';

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
// Events emitted by pgrt itself (rt.event_types.system): erasure leaves their data as it is.
const SYSTEM_EVENTS = new Set(['room_created', 'room_updated', 'room_ended', 'member_added', 'member_removed',
  'message', 'message_edited', 'message_deleted', 'state', 'presence', 'read', 'user_erased']);
const WS_OPEN = 1;

/** An error from the bridge (a `code` of docs/protocol.md "Errors") or from the client itself. */
export class PgrtError extends Error {
  constructor(code, message, { retry = false, unknownOutcome = false } = {}) {
    super(message || code);
    this.name = 'PgrtError';
    this.code = code;
    this.retry = retry;
    // True when a command was written but the connection dropped before its reply: it may or may
    // not have been applied. Sends never end like this (they are resent with their client_msg_id).
    this.unknownOutcome = unknownOutcome;
  }
}

/** Minimal event emitter; a throwing handler is reported asynchronously and cannot break the client. */
class Emitter {
  constructor() { this._handlers = new Map(); }

  on(name, fn) {
    if (typeof fn !== 'function') throw new TypeError(`handler for "${name}" must be a function`);
    if (!this._handlers.has(name)) this._handlers.set(name, new Set());
    this._handlers.get(name).add(fn);
    return () => this._handlers.get(name)?.delete(fn);
  }

  emit(name, value) {
    for (const fn of this._handlers.get(name) ?? []) {
      try {
        fn(value);
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
    }
  }
}

/** Exponential delay with "equal jitter": half fixed, half random, so reconnecting clients spread out. */
export function backoffDelay(attempt, initial, max) {
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** The `exp` claim (seconds) of a JWT, or null; the client never verifies tokens, it only plans refreshes. */
export function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
    return Number.isFinite(json.exp) ? json.exp : null;
  } catch {
    return null;
  }
}

function newClientMsgId() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function defaultUrl() {
  const loc = globalThis.location;
  if (!loc?.host) throw new TypeError('connect(): `url` is required outside a browser page');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/**
 * One logical connection to pgrt: reconnects by itself until close() is called.
 * Events: 'status' {status, attempt?, delay?, code?, reason?}, 'welcome', 'system', 'error', 'token'.
 */
export class Client extends Emitter {
  constructor(options = {}) {
    super();
    const o = { ...DEFAULTS, ...options };
    if (typeof o.token !== 'string' && typeof o.getToken !== 'function') {
      throw new TypeError('connect(): give a `token` string or a `getToken` function');
    }
    this._WebSocket = o.WebSocket ?? globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new TypeError('connect(): no WebSocket here; pass one, e.g. { WebSocket } from the "ws" package');
    }
    const urls = o.url === undefined ? [defaultUrl()] : [].concat(o.url);
    if (!urls.length || !urls.every((u) => typeof u === 'string' && /^wss?:\/\//.test(u))) {
      throw new TypeError('connect(): `url` must be a ws:// or wss:// URL, or an array of them');
    }
    if (o.tokenIn !== 'frame' && o.tokenIn !== 'query') {
      throw new TypeError("connect(): `tokenIn` must be 'frame' or 'query'");
    }
    this.options = o;
    this.rooms = new Map();
    this.status = 'idle';
    this.user = null;           // from the welcome frame
    this.bridge = null;
    this._urls = urls;
    this._urlIndex = 0;
    this._token = typeof o.token === 'string' ? o.token : null;
    this._needToken = this._token === null;
    this._queue = [];           // commands not yet written, in call order
    this._inflight = new Map(); // ref -> command written and awaiting its reply
    this._ordered = new Map();  // room -> its send being written or retried (one at a time, see _request)
    this._refs = 0;
    this._attempt = 0;
    this._ws = null;
    this._welcomed = false;
    this._closed = false;
    this._timers = {};
    this._onOnline = () => { if (this._timers.reconnect) this._reconnectNow(); };
    globalThis.addEventListener?.('online', this._onOnline);
    queueMicrotask(() => this._open()); // after the caller has attached its status handler
  }

  /** Commands waiting for a connection (or for their room's join). */
  get queued() { return this._queue.length; }

  /** Joins a room (again after every reconnect) and returns it; handlers: onEvent, onSignal, onJoin, ... */
  join(roomId, handlers = {}) {
    if (this._closed) throw new PgrtError('CLOSED', 'the client is closed');
    if (typeof roomId !== 'string' || !ROOM_ID.test(roomId)) {
      throw new TypeError(`join(): room id must match ${ROOM_ID}`);
    }
    let room = this.rooms.get(roomId);
    if (!room) {
      room = new Room(this, roomId, handlers.since);
      this.rooms.set(roomId, room);
    }
    for (const [key, event] of Object.entries(HANDLER_EVENTS)) {
      if (handlers[key]) room.on(event, handlers[key]);
    }
    if (this._welcomed && !room.joined && !room._joining) room._join();
    return room;
  }

  /**
   * Full-text search (docs/protocol.md "Search") of messages and transcripts in `room`, or in every
   * room this user may read (no join needed). Resolves to the results, newest first:
   * [{room, seq, event, actor, at, snippet}] where `snippet` is escaped HTML with <mark> around
   * matches. For the next page pass the last result's `at` as `before`. Read-only, so it is resent
   * after a disconnect.
   */
  async search(query, { room, before, limit, timeout } = {}) {
    if (typeof query !== 'string' || query.trim() === '') throw new TypeError('search(): query must be a non-empty string');
    if (room !== undefined && room !== null && (typeof room !== 'string' || !ROOM_ID.test(room))) {
      throw new TypeError(`search(): room id must match ${ROOM_ID}`);
    }
    const frame = { type: 'search', query };
    if (room !== undefined && room !== null) frame.room = room;
    if (before !== undefined && before !== null) frame.before = before;
    if (limit !== undefined) frame.limit = limit;
    const data = await this._request(frame, { idempotent: true, timeout });
    return Array.isArray(data.results) ? data.results : [];
  }

  /** Ends the connection for good: pending commands fail with CLOSED. */
  close() {
    if (this._closed) return;
    this._closed = true;
    globalThis.removeEventListener?.('online', this._onOnline);
    this._clearTimers();
    const ws = this._detach();
    if (ws) ws.close(1000);
    this._failAll(new PgrtError('CLOSED', 'the client is closed'));
    for (const room of this.rooms.values()) room._disconnected();
    this._setStatus({ status: 'closed', reason: 'closed by the application' });
  }

  // --- commands --------------------------------------------------------------------------------

  /**
   * Queues a frame and resolves to its reply's data. `room`: the frame waits until that room is
   * joined. `idempotent`: safe to write again after a disconnect or a retry:true error.
   * `offline: 'reject'` fails at once when not connected (signals: stale typing is worse than none).
   * `ordered`: one at a time per room. The bridge commits one connection's commands in the order
   * written (docs/protocol.md "Ordering"), but a send that fails with retry:true and is written
   * again would land after the sends written meanwhile; a user's messages must appear in the order
   * they were typed, retries included.
   */
  _request(frame, { room = null, idempotent = false, offline = 'queue', timeout, join = false, ordered = false } = {}) {
    return new Promise((resolve, reject) => {
      if (this._closed) return reject(new PgrtError('CLOSED', 'the client is closed'));
      if (room && room.left) return reject(new PgrtError('LEFT', `room ${room.id} was left`));
      if (offline === 'reject' && !(this._welcomed && (!room || room.joined))) {
        return reject(new PgrtError('OFFLINE', 'not connected', { retry: true }));
      }
      if (this._queue.length >= this.options.maxQueue) {
        return reject(new PgrtError('QUEUE_FULL', `${this._queue.length} commands are already waiting`, { retry: true }));
      }
      const bytes = JSON.stringify(frame).length + 32;
      if (bytes > this.options.maxFrameBytes) {
        return reject(new PgrtError('TOO_LARGE', `frame of about ${bytes} bytes exceeds ${this.options.maxFrameBytes}`));
      }
      this._queue.push({ frame, room, idempotent, join, ordered, resolve, reject, tries: 0,
        timeout: timeout ?? this.options.timeout });
      this._flush();
    });
  }

  _sendable(cmd) {
    if (cmd.ordered && (this._ordered.get(cmd.room) ?? cmd) !== cmd) return false;
    return this._welcomed && (!cmd.room || cmd.room.joined || cmd.join);
  }

  /** An ordered command settled: the next one of its room may go. */
  _release(cmd) {
    if (cmd.ordered && this._ordered.get(cmd.room) === cmd) this._ordered.delete(cmd.room);
  }

  /** Writes every queued command that can go now, keeping the call order within each room. */
  _flush() {
    if (!this._welcomed) return;
    const waiting = [];
    for (const cmd of this._queue) {
      // A join goes first: the commands of its room that wait ahead of it wait for it.
      if (this._sendable(cmd) && (cmd.join || !waiting.some((w) => w.room === cmd.room))) this._write(cmd);
      else waiting.push(cmd);
    }
    this._queue = waiting;
  }

  _write(cmd) {
    if (cmd.ordered) this._ordered.set(cmd.room, cmd);
    cmd.ref = String(++this._refs);
    this._inflight.set(cmd.ref, cmd);
    cmd.timer = setTimeout(() => this._timedOut(cmd), cmd.timeout);
    this._ws.send(JSON.stringify({ ...cmd.frame, ref: cmd.ref }));
  }

  _timedOut(cmd) {
    if (this._inflight.get(cmd.ref) !== cmd) return;
    this._inflight.delete(cmd.ref);
    this._release(cmd);
    cmd.reject(new PgrtError('TIMEOUT', `no reply to ${cmd.frame.type} within ${cmd.timeout} ms`,
      { retry: true, unknownOutcome: !cmd.idempotent }));
    this._flush();
  }

  _onReply(frame) {
    const cmd = this._inflight.get(frame.ref);
    if (!cmd) return; // timed out already
    this._inflight.delete(frame.ref);
    clearTimeout(cmd.timer);
    if (frame.ok) {
      this._release(cmd);
      cmd.resolve(frame.data ?? {});
      return this._flush();
    }
    const e = frame.error ?? {};
    const err = new PgrtError(e.code ?? 'INTERNAL', e.message, { retry: e.retry === true });
    if (err.retry && cmd.idempotent && cmd.tries < this.options.retries) {
      cmd.tries += 1;
      const delay = backoffDelay(cmd.tries, this.options.backoffInitial, this.options.backoffMax);
      // An ordered send keeps its room's turn while it waits, so nothing overtakes it.
      setTimeout(() => {
        if (this._closed) return cmd.reject(new PgrtError('CLOSED', 'the client is closed'));
        this._queue.unshift(cmd);
        this._flush();
      }, delay);
      return;
    }
    this._release(cmd);
    cmd.reject(err);
    this._flush();
  }

  /** After a drop: idempotent commands go back to the front of the queue, the others fail. */
  _requeueInflight() {
    const again = [];
    for (const cmd of [...this._inflight.values()].sort((a, b) => a.ref - b.ref)) {
      clearTimeout(cmd.timer);
      if (cmd.join) continue; // the room issues a fresh join (with the latest since) itself
      if (cmd.idempotent) again.push(cmd);
      else cmd.reject(new PgrtError('DISCONNECTED', `connection lost before the reply to ${cmd.frame.type}`,
        { retry: true, unknownOutcome: true }));
    }
    this._inflight.clear();
    // Requeued sends are first in their rooms again; a send that failed frees its room's turn.
    this._ordered.clear();
    this._queue = again.concat(this._queue);
  }

  _failAll(err) {
    for (const cmd of [...this._inflight.values(), ...this._queue]) {
      clearTimeout(cmd.timer);
      cmd.reject(err);
    }
    this._inflight.clear();
    this._ordered.clear();
    this._queue = [];
  }

  /** Fails the queued commands of one room (it was left or refused). */
  _failRoom(room, err) {
    this._ordered.delete(room);
    this._queue = this._queue.filter((cmd) => cmd.room !== room || (cmd.reject(err), false));
  }

  // --- connection --------------------------------------------------------------------------------

  async _open() {
    if (this._closed) return;
    this._setStatus({ status: 'connecting', attempt: this._attempt });
    try {
      await this._ensureToken();
    } catch (err) {
      this.emit('error', new PgrtError('UNAUTHORIZED', `getToken failed: ${err?.message ?? err}`, { retry: true }));
      return this._scheduleReconnect({ code: 4001, reason: 'no token' });
    }
    if (this._closed) return;
    const base = this._urls[this._urlIndex % this._urls.length];
    // By default the token stays out of the URL (which proxies and servers log): the upgrade asks for
    // `pgrt.auth` and the token is the first frame; the bridge answers it with `welcome`.
    const byFrame = this.options.tokenIn === 'frame';
    const token = this._token;
    let ws;
    try {
      ws = byFrame
        ? new this._WebSocket(base, AUTH_PROTOCOL)
        : new this._WebSocket(`${base}${base.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
    } catch (err) {
      this.emit('error', new PgrtError('BAD_REQUEST', `cannot open ${base}: ${err.message}`));
      return this._scheduleReconnect({ code: 1006, reason: err.message });
    }
    this._ws = ws;
    this._lastFrameAt = Date.now();
    ws.onmessage = (m) => this._onMessage(m.data);
    ws.onclose = (e) => this._onClose(e.code, e.reason);
    ws.onerror = () => {}; // a close event always follows, with the code that matters
    if (byFrame) ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
    // A socket that opens but never says welcome is as good as dead.
    this._timers.welcome = setTimeout(() => this._drop(4000, 'no welcome'), this.options.timeout);
  }

  /** Calls getToken() when there is no token, the bridge said 4001, or exp is near. */
  async _ensureToken() {
    const { getToken, refreshBefore } = this.options;
    if (typeof getToken !== 'function') return;
    const exp = this._token ? tokenExpiry(this._token) : null;
    const stale = exp !== null && exp - Date.now() / 1000 < Math.min(refreshBefore, 30);
    if (!this._needToken && !stale) return;
    const token = await getToken();
    if (typeof token !== 'string' || !token) throw new Error('getToken() must resolve to a JWT string');
    this._token = token;
    this._needToken = false;
    this.emit('token', token);
  }

  _onMessage(data) {
    this._lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch {
      return this.emit('error', new PgrtError('BAD_REQUEST', 'the bridge sent a frame that is not JSON'));
    }
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'welcome': return this._onWelcome(frame);
      case 'reply': return this._onReply(frame);
      case 'event': return this.rooms.get(frame.room)?._onFrame(frame);
      case 'system':
        if (frame.event === 'shutdown') this._shutdownNotice = true;
        return this.emit('system', frame);
      case 'error': return this.emit('error', new PgrtError(frame.code, frame.message, { retry: frame.retry === true }));
      default: return undefined; // pong, and frame types of later versions
    }
  }

  _onWelcome(frame) {
    clearTimeout(this._timers.welcome);
    this._welcomed = true;
    this.user = frame.user;
    this.bridge = frame.bridge;
    this.conn = frame.conn;
    this._setStatus({ status: 'open', bridge: frame.bridge });
    this.emit('welcome', frame);
    this._startHeartbeat(Number(frame.heartbeat) || 30);
    this._timers.stable = setTimeout(() => { this._attempt = 0; }, this.options.stableAfter);
    this._scheduleRefresh();
    for (const room of this.rooms.values()) room._join();
    this._flush();
  }

  /** App-level pings: browsers cannot see WebSocket pings, so silence is how a dead link shows. */
  _startHeartbeat(seconds) {
    const every = Math.max(1, Math.min(seconds, 30)) * 500;
    this._timers.heartbeat = setInterval(() => {
      if (Date.now() - this._lastFrameAt > 3 * every) return this._drop(4000, 'heartbeat timeout');
      if (this._ws?.readyState === WS_OPEN) this._ws.send('{"type":"ping"}');
    }, every);
  }

  /** Before exp, fetch a fresh token and hand it to the bridge with an `auth` frame. */
  _scheduleRefresh() {
    clearTimeout(this._timers.refresh);
    const exp = tokenExpiry(this._token ?? '');
    if (exp === null || typeof this.options.getToken !== 'function') return;
    const lead = Math.min(this.options.refreshBefore, Math.max(1, (exp - Date.now() / 1000) / 5));
    const inMs = Math.max(1000, (exp - lead) * 1000 - Date.now());
    this._timers.refresh = setTimeout(async () => {
      try {
        const token = await this.options.getToken();
        await this._request({ type: 'auth', token }, { offline: 'reject' });
        this._token = token;
        this.emit('token', token);
      } catch (err) {
        // Not fatal: when the old token expires the bridge closes with 4001 and we reconnect.
        this.emit('error', err instanceof PgrtError ? err : new PgrtError('UNAUTHORIZED', String(err?.message ?? err)));
      }
      this._scheduleRefresh();
    }, Math.min(inMs, 2 ** 31 - 1));
  }

  /** Drops the socket now, without waiting for a close handshake a dead link would never finish. */
  _drop(code, reason) {
    const ws = this._detach();
    if (!ws) return;
    try { ws.close(4000, reason); } catch { /* already closing */ }
    this._onClose(code, reason, true);
  }

  _detach() {
    const ws = this._ws;
    if (!ws) return null;
    ws.onmessage = ws.onclose = ws.onopen = null;
    ws.onerror = () => {};
    this._ws = null;
    return ws;
  }

  _onClose(code, reason, detached = false) {
    if (!detached && !this._detach()) return;
    this._clearTimers();
    this._welcomed = false;
    for (const room of this.rooms.values()) room._disconnected();
    this._requeueInflight();
    if (this._closed) return;
    this._scheduleReconnect({ code, reason });
  }

  /**
   * Close codes decide the delay: 4008 (too slow) resumes at once, 1001 (bridge shutting down)
   * tries the next URL after a short random pause so a whole bridge's clients do not return in the
   * same millisecond, 4029 waits long, 4001 gets a fresh token first, anything else backs off.
   */
  _scheduleReconnect({ code, reason }) {
    const o = this.options;
    let delay;
    if (code === 4001) {
      if (typeof o.getToken !== 'function') {
        this._closed = true;
        globalThis.removeEventListener?.('online', this._onOnline);
        this._failAll(new PgrtError('UNAUTHORIZED', 'the token expired or was revoked'));
        this._setStatus({ status: 'closed', code, reason: 'token expired or revoked; no getToken to renew it' });
        return;
      }
      this._needToken = true;
      delay = backoffDelay(this._attempt++, o.backoffInitial, o.backoffMax);
    } else if (code === 4008) {
      delay = Math.round(Math.random() * 250);
    } else if (code === 1001 || this._shutdownNotice) {
      this._urlIndex += 1;
      delay = 100 + Math.round(Math.random() * 900);
    } else if (code === 4029) {
      delay = Math.max(o.rateLimitedDelay, backoffDelay(this._attempt++, o.backoffInitial, o.backoffMax));
    } else {
      if (this._attempt > 0) this._urlIndex += 1;
      delay = backoffDelay(this._attempt++, o.backoffInitial, o.backoffMax);
    }
    this._shutdownNotice = false;
    this._setStatus({ status: 'reconnecting', attempt: this._attempt, delay, code, reason });
    this._timers.reconnect = setTimeout(() => this._reconnectNow(), delay);
  }

  _reconnectNow() {
    clearTimeout(this._timers.reconnect);
    delete this._timers.reconnect;
    this._open();
  }

  _clearTimers() {
    clearTimeout(this._timers.welcome);
    clearTimeout(this._timers.stable);
    clearTimeout(this._timers.refresh);
    clearTimeout(this._timers.reconnect);
    clearInterval(this._timers.heartbeat);
    this._timers = {};
  }

  _setStatus(detail) {
    this.status = detail.status;
    this.emit('status', { ...detail, queued: this._queue.length });
  }
}

// join() handler options and the room events they subscribe to.
const HANDLER_EVENTS = {
  onEvent: 'event', onSignal: 'signal', onJoin: 'join', onPresence: 'presence', onOccupancy: 'occupancy',
  onTyping: 'typing', onRead: 'read', onGap: 'gap', onError: 'error', onErased: 'erased',
};

/**
 * A joined room. Events: 'event' (persisted, once each, seq order), 'signal' (typing, presence,
 * read, interim transcripts, ...), 'join' (every join reply), 'presence' (user ids online: all of
 * them while presenceComplete, else a page), 'occupancy' (how many users are online: a number),
 * 'typing' (user ids typing), 'read' {user, seq}, 'gap' {after, before} (events pruned by
 * retention that can no longer be delivered), 'erased' {user, upto, seq} (a user's content was erased:
 * redact what is shown of theirs up to `upto`, e.g. with redactErased), 'error'.
 */
export class Room extends Emitter {
  constructor(client, id, since) {
    super();
    if (since !== undefined && since !== null && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new TypeError('join(): `since` must be a non-negative integer');
    }
    this.client = client;
    this.id = id;
    this.lastSeq = since ?? null; // last seq handed to the application; null until the first join
    this.info = null;             // the latest join reply, kept current by state events
    this.presence = new Set();
    // A room above its presence threshold (docs/protocol.md "Presence and occupancy") reports how many
    // are online and only a page of who: presenceComplete is then false and roster() pages the rest.
    this.occupancy = 0;
    this.presenceComplete = true;
    this._rosterRefresh = null;
    this.typingUsers = new Map(); // user -> expiry timer
    this.joined = false;
    this.left = false;
    this._joining = false;
    this._joinAttempt = 0;
    this._held = new Map();       // seq -> event that arrived ahead of a gap
    this._filling = false;
    this._lastTypingAt = 0;
    this.ready = new Promise((resolve, reject) => { this._ready = { resolve, reject }; });
    this.ready.catch(() => {}); // an unobserved refusal is reported through 'error' as well
  }

  // --- commands --------------------------------------------------------------------------------

  /** Posts a message; resolves to the stored `message` event. Safe to call offline. */
  send(body, { media_url, meta, client_msg_id = newClientMsgId(), timeout } = {}) {
    if (typeof body !== 'string' || body.length === 0) return Promise.reject(new TypeError('send(): body must be a non-empty string'));
    const frame = { type: 'send', room: this.id, body, client_msg_id };
    if (media_url !== undefined) frame.media_url = media_url;
    if (meta !== undefined) frame.meta = meta;
    // Receivers stop showing this user as typing when the message arrives.
    this._typingSent = false;
    this._lastTypingAt = 0;
    return this.client._request(frame, { room: this, idempotent: true, ordered: true, timeout });
  }

  /** Appends an application event (owner and service roles); resolves to the event. */
  publish(event, data = {}, opts = {}) {
    return this.client._request({ type: 'publish', room: this.id, event, data }, { room: this, ...opts });
  }

  /** Sends an ephemeral signal; fails with OFFLINE instead of queueing (a late signal is a wrong one). */
  signal(event, data = {}, opts = {}) {
    return this.client._request({ type: 'signal', room: this.id, event, data }, { room: this, offline: 'reject', ...opts });
  }

  /** Moves the state machine; with `expect`, only if the version is still that one (else CONFLICT). */
  state(to, expect, opts = {}) {
    const frame = { type: 'state', room: this.id, to };
    if (expect !== undefined && expect !== null) frame.expect = expect;
    return this.client._request(frame, { room: this, ...opts });
  }

  edit(seq, body, opts = {}) {
    return this.client._request({ type: 'edit', room: this.id, seq, body }, { room: this, ...opts });
  }

  delete(seq, opts = {}) {
    return this.client._request({ type: 'delete', room: this.id, seq }, { room: this, ...opts });
  }

  /** Marks the room read up to seq (the server never moves a marker backwards, so retries are safe). */
  read(seq, opts = {}) {
    return this.client._request({ type: 'read', room: this.id, seq }, { room: this, idempotent: true, ...opts });
  }

  /**
   * The newest `limit` events with seq < before (or the newest overall), ascending. A reply also
   * stops at 256 KiB of events (docs/protocol.md "history"): fewer than `limit` may come although
   * older ones exist. historyPage() says so; history() returns the events only.
   */
  async history(opts = {}) {
    return (await this.historyPage(opts)).events;
  }

  /** One history page: {events, more}; `more` is true while older events exist (page on with before: events[0].seq). */
  async historyPage({ before, limit, timeout } = {}) {
    const frame = { type: 'history', room: this.id };
    if (before !== undefined && before !== null) frame.before = before;
    if (limit !== undefined) frame.limit = limit;
    const data = await this.client._request(frame, { room: this, idempotent: true, timeout });
    return { events: Array.isArray(data.events) ? data.events : [], more: data.more === true };
  }

  /**
   * One page of who is online: {room, occupancy, users, next} (users sorted, after `after`, at most
   * `limit`, 1..1000, default 100; `next` is the `after` of the next page, null on the last).
   */
  async roster({ after, limit, timeout } = {}) {
    const frame = { type: 'roster', room: this.id };
    if (after !== undefined && after !== null) frame.after = after;
    if (limit !== undefined) frame.limit = limit;
    const data = await this.client._request(frame, { room: this, idempotent: true, timeout });
    if (Number.isSafeInteger(data.occupancy)) this._setOccupancy(data.occupancy);
    return data;
  }

  /**
   * Tells the room this user is typing, at most once per typingInterval however often it is
   * called (call it on every keystroke); typing(false) says the user stopped. Never throws.
   */
  typing(active = true) {
    const now = Date.now();
    if (active && now - this._lastTypingAt < this.client.options.typingInterval) return;
    if (!active && !this._typingSent) return;
    this._lastTypingAt = active ? now : 0;
    this._typingSent = active;
    this.signal('typing', { active }).catch(() => {});
  }

  /** Leaves the room: no more events, queued commands fail with LEFT. */
  leave() {
    if (this.left) return Promise.resolve();
    const wasJoined = this.joined;
    this._disconnected();
    this.left = true;
    this.client.rooms.delete(this.id);
    this.client._failRoom(this, new PgrtError('LEFT', `room ${this.id} was left`));
    this._ready.reject(new PgrtError('LEFT', `room ${this.id} was left`));
    if (!wasJoined) return Promise.resolve();
    return this.client._request({ type: 'leave', room: this.id }, { offline: 'reject' }).then(() => {}, () => {});
  }

  // --- joining -----------------------------------------------------------------------------------

  _join() {
    if (this.left) return;
    const attempt = ++this._joinAttempt;
    const frame = { type: 'join', room: this.id };
    if (this.lastSeq !== null) frame.since = this.lastSeq;
    this._joining = true;
    this.client._request(frame, { room: this, join: true }).then(
      (data) => { if (attempt === this._joinAttempt) this._onJoined(data); },
      (err) => { if (attempt === this._joinAttempt) this._onJoinFailed(err); });
  }

  _onJoined(data) {
    const first = this.info === null;
    this._joining = false;
    this.joined = true;
    this.info = { ...data };
    this.presence = new Set(Array.isArray(data.presence) ? data.presence : []);
    // With `occupancy` the list is a page (a room above its threshold); without, it is everyone.
    this.presenceComplete = !Number.isSafeInteger(data.occupancy);
    this._setOccupancy(this.presenceComplete ? this.presence.size : data.occupancy, true);
    if (this.lastSeq === null) this.lastSeq = Number(data.seq) || 0; // no since: live from here on
    this.emit('join', { ...this.info, resumed: !first });
    this.emit('presence', [...this.presence]);
    if (first) this._ready.resolve(this);
    this._drainHeld(0);
    this.client._flush();
    // The bridge replays seq > since right after the reply; if some never come, fetch them.
    clearTimeout(this._replayTimer);
    const target = Number(data.seq) || 0;
    if (target > this.lastSeq) {
      this._replayTimer = setTimeout(() => {
        if (this.joined && !this._filling && this.lastSeq < target) this._fill(target + 1);
      }, this.client.options.replayGrace);
    }
  }

  _onJoinFailed(err) {
    this._joining = false;
    if (err.code === 'DISCONNECTED' || err.code === 'CLOSED') return; // rejoined on the next welcome
    if (err.code === 'TIMEOUT') return this.client._drop(4000, 'join timed out');
    if (err.retry) {
      this._joinRetries = (this._joinRetries || 0) + 1;
      const delay = backoffDelay(this._joinRetries, this.client.options.backoffInitial, this.client.options.backoffMax);
      setTimeout(() => { if (this.client._welcomed && !this.joined) this._join(); }, delay);
      return;
    }
    // FORBIDDEN, BAD_REQUEST, ...: joining again cannot help.
    this.left = true;
    this.client.rooms.delete(this.id);
    this.client._failRoom(this, err);
    this._ready.reject(err);
    this.emit('error', err);
  }

  _disconnected() {
    this.joined = false;
    this._joining = false;
    this._joinRetries = 0;
    clearTimeout(this._replayTimer);
    for (const timer of this.typingUsers.values()) clearTimeout(timer);
    if (this.typingUsers.size) {
      this.typingUsers.clear();
      this.emit('typing', []);
    }
  }

  // --- incoming frames ---------------------------------------------------------------------------

  _onFrame(frame) {
    if (this.left) return;
    if (frame.seq === undefined || frame.seq === null) return this._onSignal(frame);
    if (!Number.isSafeInteger(frame.seq)) return;
    if (this.lastSeq === null || this._filling) {
      this._held.set(frame.seq, frame);
      return;
    }
    if (frame.seq <= this.lastSeq) return; // a replayed or resent event already delivered
    if (frame.seq === this.lastSeq + 1) {
      this._deliver(frame);
      this._drainHeld(0);
      return;
    }
    this._held.set(frame.seq, frame);
    this._fill(frame.seq);
  }

  _deliver(ev) {
    this.lastSeq = ev.seq;
    const info = this.info;
    if (info) {
      info.seq = Math.max(Number(info.seq) || 0, ev.seq);
      if (ev.event === 'state' || (ev.event === 'room_ended' && ev.data?.to)) {
        info.state = ev.data.to;
        info.version = ev.data.version;
      }
      if (ev.event === 'room_ended') info.ended = true;
    }
    if (ev.event === 'message') this._stopTyping(ev.actor);
    this.emit('event', ev);
    if (ev.event === 'user_erased' && typeof ev.data?.user === 'string') {
      const { user, upto } = ev.data;
      // Events still held (behind a gap) are redacted before the application sees them.
      const theirs = new Set([...this._held.values()].filter((e) => e.event === 'message' && e.actor === user).map((e) => e.seq));
      for (const held of this._held.values()) if (held.seq <= upto) redactErased(held, user, theirs);
      this.emit('erased', { user, upto, seq: ev.seq });
    }
  }

  /**
   * Delivers held events that are next in line. A gap still open below `filledUpTo` is one that
   * history could not fill (retention pruned it): say so and move on. A gap above it is fetched.
   */
  _drainHeld(filledUpTo) {
    const seqs = [...this._held.keys()].sort((a, b) => a - b);
    for (const seq of seqs) {
      const ev = this._held.get(seq);
      if (seq <= this.lastSeq) {
        this._held.delete(seq);
      } else if (seq === this.lastSeq + 1 || seq <= filledUpTo) {
        if (seq !== this.lastSeq + 1) this.emit('gap', { after: this.lastSeq, before: seq });
        this._held.delete(seq);
        this._deliver(ev);
      } else {
        return this._fill(seq);
      }
    }
  }

  /** Fetches the events between lastSeq and `before` (exclusive) from history, then delivers. */
  async _fill(before) {
    if (this._filling) return;
    this._filling = true;
    let complete = false;
    try {
      const fetched = [];
      let upTo = before;
      while (upTo - 1 > this.lastSeq) {
        const limit = Math.min(1000, upTo - 1 - this.lastSeq);
        const { events: page, more } = await this.historyPage({ before: upTo, limit });
        const fresh = page.filter((e) => Number.isSafeInteger(e.seq) && e.seq > this.lastSeq && e.seq < upTo);
        fetched.unshift(...fresh);
        // A short page with more: true was cut by the byte budget; without it, older ones are gone.
        if ((page.length < limit && !more) || fresh.length === 0) break;
        upTo = fresh[0].seq;
      }
      for (const ev of fetched) if (!this._held.has(ev.seq)) this._held.set(ev.seq, ev);
      complete = true;
    } catch (err) {
      // Disconnected: the rejoin replays from lastSeq. Anything else: report it, keep what is held.
      if (err.code !== 'DISCONNECTED' && err.code !== 'CLOSED' && err.code !== 'LEFT') this.emit('error', err);
    } finally {
      this._filling = false;
    }
    if (complete && !this.left) this._drainHeld(before);
  }

  _onSignal(sig) {
    const data = sig.data ?? {};
    if (sig.event === 'presence' && typeof data.user === 'string') {
      if (data.status === 'joined') this.presence.add(data.user);
      else if (data.status === 'left') this.presence.delete(data.user);
      this._presenceChanged();
    } else if (sig.event === 'presence_batch') {
      // The bridge coalesces bursts of presence changes into one frame: {joined: [...], left: [...]}.
      for (const user of Array.isArray(data.joined) ? data.joined : []) this.presence.add(user);
      for (const user of Array.isArray(data.left) ? data.left : []) this.presence.delete(user);
      this._presenceChanged();
    } else if (sig.event === 'occupancy' && Number.isSafeInteger(data.occupancy)) {
      // Above the threshold: a count instead of each join and leave; the list shown is a page.
      this.presenceComplete = false;
      this._setOccupancy(data.occupancy);
    } else if (sig.event === 'typing' && sig.actor !== this.client.user) {
      if (data.active === false) this._stopTyping(sig.actor);
      else this._startTyping(sig.actor);
    } else if (sig.event === 'read' && typeof data.user === 'string') {
      this.emit('read', { user: data.user, seq: data.seq });
    }
    this.emit('signal', sig);
  }

  /** After a presence change: the count follows a complete list; an incomplete one is read again. */
  _presenceChanged() {
    this.emit('presence', [...this.presence]);
    if (this.presenceComplete) this._setOccupancy(this.presence.size);
    else this._refreshRoster();
  }

  /**
   * A `presence` signal while the list is a page means the room fell back to its threshold or below
   * (docs/protocol.md "Presence and occupancy"): one roster page of 1000 then holds everyone.
   */
  _refreshRoster() {
    if (this._rosterRefresh || !this.joined) return;
    this._rosterRefresh = this.roster({ limit: 1000 }).then((page) => {
      if (page.next === null && Array.isArray(page.users)) {
        this.presence = new Set(page.users);
        this.presenceComplete = true;
        this.emit('presence', [...this.presence]);
      }
    }, (err) => {
      if (err.code !== 'DISCONNECTED' && err.code !== 'CLOSED' && err.code !== 'LEFT') this.emit('error', err);
    }).finally(() => { this._rosterRefresh = null; });
  }

  _setOccupancy(n, always = false) {
    if (n === this.occupancy && !always) return;
    this.occupancy = n;
    this.emit('occupancy', n);
  }

  _startTyping(user) {
    clearTimeout(this.typingUsers.get(user));
    const isNew = !this.typingUsers.has(user);
    this.typingUsers.set(user, setTimeout(() => this._stopTyping(user), this.client.options.typingExpiry));
    if (isNew) this.emit('typing', [...this.typingUsers.keys()]);
  }

  _stopTyping(user) {
    if (!this.typingUsers.has(user)) return;
    clearTimeout(this.typingUsers.get(user));
    this.typingUsers.delete(user);
    this.emit('typing', [...this.typingUsers.keys()]);
  }
}

/**
 * Redacts one event the way the server redacted the stored ones when `user` was erased
 * (docs/protocol.md "Erasure"); `erasedMessages` (optional) is the set of seqs of that user's
 * messages, so that other members' edits of them are redacted too. Returns true when it changed.
 */
export function redactErased(ev, user, erasedMessages) {
  if (!ev || typeof ev.data !== 'object' || ev.data === null || ev.data.erased === true) return false;
  if (ev.event === 'message' && ev.actor === user) {
    ev.data = { ...ev.data, body: null, media_url: null, meta: {}, erased: true };
  } else if (ev.event === 'message_edited' && (ev.actor === user || erasedMessages?.has(ev.data.seq))) {
    ev.data = { ...ev.data, body: null, erased: true };
  } else if (ev.actor === user && !SYSTEM_EVENTS.has(ev.event)) {
    ev.data = { erased: true };
  } else {
    return false;
  }
  return true;
}

/** Opens a client; see Client. */
export function connect(options) {
  return new Client(options);
}
