// bridge: starts a real rt-bridge process on a free port and stops it, checking a clean exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SECRET } from './jwt.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BRIDGE_BIN = process.env.RT_BRIDGE_BIN || path.join(ROOT, 'build/rt-bridge');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until fn() resolves truthy or the deadline passes. */
export async function until(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e.fatal) throw e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

// What AddressSanitizer, LeakSanitizer and UBSan print when they find something.
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/;

/** A bridge whose output holds a sanitizer report fails the test that ran it and, whichever test
 * that was, leaves the report in $PGRT_TEST_TMP/sanitizer-reports for scripts/test.sh to fail on
 * (a leak is only reported at exit, often after the test's own assertions). */
function keepSanitizerReport(bridge) {
  if (!SANITIZER_REPORT.test(bridge.log)) return;
  const dir = path.join(process.env.PGRT_TEST_TMP || '/tmp', 'sanitizer-reports');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `rt-bridge-${bridge.proc.pid}.log`), bridge.log);
  process.exitCode = 1;
  console.error(`sanitizer report from rt-bridge ${bridge.proc.pid}:\n${bridge.log.slice(-4000)}`);
}

export class Bridge {
  constructor({ args = [], env = {}, secret = DEFAULT_SECRET } = {}) {
    this.args = args;
    this.env = env;
    this.secret = secret;
    this.log = '';
  }

  get url() { return `${this.scheme || 'http'}://127.0.0.1:${this.port}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; }

  async start({ waitDb = true } = {}) {
    this.port = this.port || await freePort();
    const args = ['serve', '--host', '127.0.0.1', '--port', String(this.port), '--log-level', 'debug', ...this.args];
    const env = { ...process.env, RT_JWT_SECRET: this.secret, ...this.env };
    if (this.env.RT_JWT_SECRET === undefined && this.args.includes('--jwt-alg')) delete env.RT_JWT_SECRET;
    this.proc = spawn(BRIDGE_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    // 'close' (not 'exit'): by then all of its output, a sanitizer's report included, has been read.
    this.exited = new Promise((resolve) => this.proc.on('close', (code, signal) => {
      keepSanitizerReport(this);
      resolve({ code, signal });
    }));
    let gone = false;
    this.exited.then(() => { gone = true; });
    await until(async () => {
      if (gone) throw Object.assign(new Error(`rt-bridge exited at start:\n${this.log}`), { fatal: true });
      if (this.scheme === 'https') { // fetch cannot trust a test CA: a TCP connect is enough here
        const net = await import('node:net');
        return new Promise((resolve) => {
          const sock = net.connect(this.port, '127.0.0.1', () => { sock.destroy(); resolve(true); });
          sock.on('error', () => resolve(false));
        });
      }
      // Its own "started" line too: on a shared port another bridge may answer the health check.
      return (await fetch(`${this.url}/health`)).status > 0 && /event=started /.test(this.log);
    }, { what: 'bridge to listen' });
    if (waitDb) await this.waitDb('up');
    return this;
  }

  async health() {
    const res = await fetch(`${this.url}/health`);
    return { status: res.status, body: await res.json() };
  }

  async waitDb(state, timeout = 15000) {
    await until(async () => (await this.health()).body.db === state, { timeout, what: `db ${state}` });
  }

  /** SIGTERM and wait; resolves to the exit status. */
  async stop(timeout = 15000) {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeout);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  kill() { this.proc.kill('SIGKILL'); return this.exited; }
}
