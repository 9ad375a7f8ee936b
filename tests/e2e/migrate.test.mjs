// `rt-bridge migrate`: applied once, in order, recorded with a checksum; idempotent; safe when
// several bridges migrate at the same moment; a changed applied file is refused unless
// migrations/amended.txt lists the change.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BRIDGE_BIN, ROOT } from './lib/bridge.mjs';
import { psql } from './lib/pg.mjs';

function migrate(env, args = []) {
  return new Promise((resolve) => {
    execFile(BRIDGE_BIN, ['migrate', ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, out: stdout + stderr }));
  });
}

const schemaDump = (db) => new Promise((resolve, reject) => {
  // pg_dump's \restrict lines carry a random key per run: not part of the schema.
  execFile('pg_dump', ['--schema-only', '--no-owner', db], { maxBuffer: 64 << 20 }, (err, stdout) =>
    (err ? reject(err) : resolve(stdout.replace(/^\\(un)?restrict .*$/gm, ''))));
});

describe('rt-bridge migrate', () => {
  const db = `pgrt_migrate_${process.pid}`;
  const env = { PGDATABASE: db };
  let tmp;
  before(async () => {
    await psql(`CREATE DATABASE ${db}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pgrt-migrations-'));
  });
  after(async () => {
    await psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('two migrations started at the same moment both succeed', async () => {
    const [a, b] = await Promise.all([migrate(env), migrate(env)]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    const files = fs.readdirSync(path.join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql'));
    assert.equal(await psql('SELECT count(*) FROM rt.schema_migrations', env), String(files.length));
  });

  test('migrating again changes nothing', async () => {
    const before = await schemaDump(db);
    const rows = await psql('SELECT version, checksum, applied_at FROM rt.schema_migrations ORDER BY 1', env);
    const again = await migrate(env);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /migrations_applied=0/);
    assert.ok((await schemaDump(db)) === before, 'the schema dump is identical after a second migrate');
    assert.equal(await psql('SELECT version, checksum, applied_at FROM rt.schema_migrations ORDER BY 1', env), rows);
  });

  test('a changed applied migration is refused and nothing is applied', async () => {
    const dir = path.join(tmp, 'changed');
    fs.cpSync(path.join(ROOT, 'migrations'), dir, { recursive: true });
    fs.appendFileSync(path.join(dir, '0001_bootstrap.sql'), '\n-- edited after release\n');
    fs.writeFileSync(path.join(dir, '9998_new.sql'), 'CREATE TABLE rt.should_not_exist (x int);');
    const r = await migrate(env, ['--migrations-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out, /0001_bootstrap\.sql.*changed after it was applied/);
    assert.equal(await psql("SELECT to_regclass('rt.should_not_exist') IS NULL", env), 't');
  });

  test('a change listed in amended.txt moves the checksum forward; an unlisted or stale one is refused', async () => {
    const md5 = (file) => crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex');
    const dir = path.join(tmp, 'amended');
    fs.cpSync(path.join(ROOT, 'migrations'), dir, { recursive: true });
    const file = path.join(dir, '0001_bootstrap.sql');
    const applied = md5(file);
    fs.appendFileSync(file, '\n-- a corrected comment\n');
    const now = md5(file);
    const before = await schemaDump(db);

    fs.appendFileSync(path.join(dir, 'amended.txt'), `0001_bootstrap.sql ${'0'.repeat(32)} ${now}\n`);
    const stale = await migrate(env, ['--migrations-dir', dir]);
    assert.equal(stale.code, 1, 'an amendment from another checksum does not apply');
    assert.match(stale.out, /0001_bootstrap\.sql.*changed after it was applied/);

    fs.appendFileSync(path.join(dir, 'amended.txt'), `0001_bootstrap.sql ${applied} ${now}\n`);
    const r = await migrate(env, ['--migrations-dir', dir]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /migration_amended.*0001_bootstrap\.sql/);
    assert.match(r.out, /migrations_applied=0/);
    assert.equal(await psql('SELECT checksum FROM rt.schema_migrations WHERE version = 1', env), now);
    assert.ok((await schemaDump(db)) === before, 'nothing was re-applied');

    const back = await migrate(env);
    assert.equal(back.code, 1, 'the original text no longer matches the amended record');
    await psql(`UPDATE rt.schema_migrations SET checksum = '${applied}' WHERE version = 1`, env);
  });

  test('a failing migration rolls back entirely and is not recorded', async () => {
    const dir = path.join(tmp, 'failing');
    fs.cpSync(path.join(ROOT, 'migrations'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '9999_broken.sql'),
      'CREATE TABLE rt.half_done (x int);\nSELECT no_such_function();\n');
    const r = await migrate(env, ['--migrations-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out, /9999_broken\.sql/);
    assert.equal(await psql("SELECT to_regclass('rt.half_done') IS NULL", env), 't');
    assert.equal(await psql('SELECT count(*) FROM rt.schema_migrations WHERE version = 9999', env), '0');
  });

  test('a badly named migration file is refused', async () => {
    const dir = path.join(tmp, 'badname');
    fs.cpSync(path.join(ROOT, 'migrations'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'add-things.sql'), 'SELECT 1;');
    const r = await migrate(env, ['--migrations-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out, /NNNN_lowercase_name\.sql/);
  });

  test('a missing directory and an unreachable database fail with a clear message', async () => {
    const r1 = await migrate(env, ['--migrations-dir', path.join(tmp, 'nope')]);
    assert.equal(r1.code, 1);
    assert.match(r1.out, /nope/);
    const r2 = await migrate({ PGPORT: '1', PGHOST: '127.0.0.1' });
    assert.equal(r2.code, 1);
    assert.match(r2.out, /step=connect/);
  });
});
