// fake-bridge: a scripted WebSocket server for the client library's logic tests. A test plays the
// bridge frame by frame, so it can do what a healthy bridge never does on cue: skip a seq, repeat
// one, swallow a reply, close with 4001/4008/4029/1001.
import { WebSocketServer } from 'ws';
import { freePort } from '../../e2e/lib/bridge.mjs';

/** One accepted connection: the frames it sent, and ways to answer. */
class Peer {
  constructor(ws, req) {
    this.ws = ws;
    this.url = new URL(req.url, 'ws://fake');
    this.frames = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'ping') return this.send({ type: 'pong', ...(frame.ref ? { ref: frame.ref } : {}) });
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !(w.match(frame) && (w.resolve(frame), true)));
    });
  }

  /** The token the client authenticated with: its first frame (pgrt.auth), or ?token= in the URL. */
  get token() { return this.authFrame ? this.authFrame.token : this.url.searchParams.get('token'); }

  send(frame) { this.ws.send(JSON.stringify(frame)); }

  welcome(user = 'alice') { this.send({ type: 'welcome', conn: 'c1', user, bridge: 'fake', heartbeat: 30 }); }

  reply(frame, data = {}) { this.send({ type: 'reply', ref: frame.ref, ok: true, data }); }

  fail(frame, code, message = code, retry = false) {
    this.send({ type: 'reply', ref: frame.ref, ok: false, error: { code, message, retry } });
  }

  /** The next frame the client sends that matches (already received or future). */
  next(match = () => true, timeout = 5000) {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake bridge: no matching frame within ${timeout} ms`)), timeout);
      this.waiters.push({ match, resolve: (f) => { clearTimeout(timer); this.frames.splice(this.frames.indexOf(f), 1); resolve(f); } });
    });
  }

  /** Answers the next join of `room` with a reply whose latest seq is `seq`. */
  async acceptJoin(room, seq = 0, extra = {}) {
    const join = await this.next((f) => f.type === 'join' && f.room === room);
    this.reply(join, { room, kind: 'chat', seq, state: null, version: null, presence: ['alice'],
      recovered: true, role: 'member', ...extra });
    return join;
  }

  close(code, reason = '') { this.ws.close(code, reason); }

  /** Drops the TCP connection without a close frame (what a crash looks like: 1006). */
  kill() { this.ws.terminate(); }
}

export class FakeBridge {
  async start(port) {
    this.port = port ?? await freePort();
    this.peers = [];
    this.waiting = [];
    this.server = new WebSocketServer({ host: '127.0.0.1', port: this.port });
    this.server.on('connection', async (ws, req) => {
      // A pgrt.auth client sends its token first: the peer is handed over once it has (or has closed).
      const authFrame = ws.protocol === 'pgrt.auth' ? await new Promise((resolve) => {
        ws.once('message', (data) => resolve(JSON.parse(data.toString())));
        ws.once('close', () => resolve(null));
      }) : null;
      const peer = new Peer(ws, req);
      peer.authFrame = authFrame;
      const w = this.waiting.shift();
      if (w) w(peer);
      else this.peers.push(peer);
    });
    await new Promise((resolve) => this.server.once('listening', resolve));
    return this;
  }

  get url() { return `ws://127.0.0.1:${this.port}/ws`; }

  /** The next connection (already accepted or future). */
  connection(timeout = 5000) {
    if (this.peers.length) return Promise.resolve(this.peers.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fake bridge: no connection')), timeout);
      this.waiting.push((p) => { clearTimeout(timer); resolve(p); });
    });
  }

  stop() {
    for (const ws of this.server.clients) ws.terminate();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

/** A persisted event frame as the bridge sends it. */
export function event(room, seq, extra = {}) {
  return { type: 'event', room, seq, event: 'message', actor: 'bob', at: new Date().toISOString(),
    data: { body: `m${seq}`, media_url: null, meta: {}, client_msg_id: null }, ...extra };
}
