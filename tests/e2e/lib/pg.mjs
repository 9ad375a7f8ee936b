// pg: psql and cluster helpers for tests (psql is the client every user has).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, BRIDGE_BIN, freePort } from './bridge.mjs';

const run = promisify(execFile);

/** Runs SQL through psql (-At) and returns stdout trimmed. env overrides PG* variables. */
export async function psql(sql, env = {}) {
  const { stdout } = await run('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, ...env },
  });
  return stdout.trim();
}

/** A private PostgreSQL cluster for tests that stop or restart the database. */
export class Cluster {
  async start() {
    this.dir = this.dir || fs.mkdtempSync(path.join(process.env.PGRT_TEST_TMP || os.tmpdir(), 'cluster-'));
    fs.chmodSync(this.dir, 0o755);
    this.port = this.port || await freePort();
    execFileSync(path.join(ROOT, 'scripts/pg-cluster.sh'), ['start', this.dir, String(this.port)], {
      stdio: 'pipe',
      env: { ...process.env, PGRT_PG_OPTS: '-c fsync=off' },
    });
    return this;
  }

  /** Applies migrations/ and sql/ with rt-bridge migrate. */
  migrate() {
    execFileSync(BRIDGE_BIN, ['migrate'], { stdio: 'pipe', env: { ...process.env, ...this.env } });
    return this;
  }

  get env() {
    return { PGHOST: '127.0.0.1', PGPORT: String(this.port), PGUSER: 'postgres', PGDATABASE: 'pgrt' };
  }

  stop() {
    execFileSync(path.join(ROOT, 'scripts/pg-cluster.sh'), ['stop', this.dir], { stdio: 'pipe' });
  }

  remove() {
    this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
