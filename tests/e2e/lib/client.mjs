// client: a WebSocket test client that records every frame and lets a test await the next match.
import WebSocket from 'ws';

export class Client {
  /** protocols: Sec-WebSocket-Protocol entries (['pgrt.auth'] asks to authenticate by frame). */
  constructor(url, { token, headers = {}, origin, protocols = [] } = {}) {
    const full = token ? `${url}?token=${encodeURIComponent(token)}` : url;
    this.frames = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
    this.ws = new WebSocket(full, protocols, { headers, origin, maxPayload: 64 * 1024 * 1024 });
    this.ws.on('message', (data, isBinary) => {
      const frame = isBinary ? { binary: data } : JSON.parse(data.toString());
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !(w.match(frame) && (w.resolve(frame), true)));
    });
    this.ws.on('close', (code, reason) => this.resolveClosed({ code, reason: reason.toString() }));
    this.ws.on('error', () => {});
  }

  /** Resolves once open, rejects with the HTTP status when the upgrade is refused. */
  opened() {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve(this));
      this.ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      this.ws.once('error', reject);
    });
  }

  send(frame) { this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)); }

  /** The first frame (already received or future) that matches. */
  next(match, timeout = 5000) {
    const seen = this.frames.find(match);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeout} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`)), timeout);
      this.waiters.push({
        match,
        resolve: (f) => { clearTimeout(timer); this.frames.splice(this.frames.indexOf(f), 1); resolve(f); },
      });
    });
  }

  /** Sends a frame with a fresh ref and resolves to its reply. */
  async request(frame, timeout = 5000) {
    const ref = frame.ref ?? `r${++Client.refs}`;
    const reply = this.next((f) => f.type === 'reply' && f.ref === ref, timeout);
    this.send({ ...frame, ref });
    return reply;
  }

  close() { this.ws.close(); return this.closed; }
}
Client.refs = 0;

export async function connect(url, token, opts = {}) {
  const c = new Client(url, { token, ...opts });
  await c.opened();
  return c;
}

/** Tries an upgrade and returns the HTTP status of the refusal (or 101). */
export async function upgradeStatus(url, opts) {
  const c = new Client(url, opts);
  try {
    await c.opened();
    c.close();
    return 101;
  } catch (e) {
    return e.status ?? 0;
  }
}
