// Every setting the bridge has appears in docs/configuration.md, and the document names no setting
// the bridge lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BRIDGE_BIN, ROOT } from './lib/bridge.mjs';

test('docs/configuration.md lists exactly the settings of rt-bridge --help', () => {
  const help = execFileSync(BRIDGE_BIN, ['--help'], { encoding: 'utf8' });
  const fromHelp = [...help.matchAll(/^ {2}--(\S+)\s+(RT_\S+)\s+(.*)$/gm)].map(([, flag, env, def]) => ({ flag, env, def: def.trim() }));
  assert.ok(fromHelp.length >= 20, 'the help lists the settings');
  const doc = fs.readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `--([a-z0-9-]+)` \| `(RT_[A-Z0-9_]+)` \| ([^|]*) \|/gm)].map(([, flag, env, def]) => ({ flag, env, def: def.trim() }));
  for (const s of fromHelp) {
    const row = rows.find((r) => r.flag === s.flag);
    assert.ok(row, `--${s.flag} is missing from docs/configuration.md`);
    assert.equal(row.env, s.env, `--${s.flag}: environment variable`);
    if (s.def === '(unset)') assert.equal(row.def, 'unset', `--${s.flag}: default`);
    else if (!s.def.startsWith('/')) assert.equal(row.def, `\`${s.def}\``, `--${s.flag}: default`);
  }
  for (const r of rows) assert.ok(fromHelp.some((s) => s.flag === r.flag), `docs/configuration.md names --${r.flag}, which rt-bridge does not have`);
});
