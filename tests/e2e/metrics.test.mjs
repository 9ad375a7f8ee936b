// GET /metrics parses as the Prometheus text format, follows its naming conventions, and moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge } from './lib/bridge.mjs';
import { connect } from './lib/client.mjs';
import { psql } from './lib/pg.mjs';
import * as jwt from './lib/jwt.mjs';

/** A strict parser of the text exposition format: families with HELP/TYPE, then their samples. */
function parse(text) {
  const families = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = line.match(/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/))) {
      current = { name: m[1], help: m[2], samples: [] };
      assert.ok(!families.has(m[1]), `family ${m[1]} declared twice`);
      families.set(m[1], current);
    } else if ((m = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/))) {
      assert.equal(m[1], current?.name, `TYPE for ${m[1]} must follow its HELP`);
      current.type = m[2];
    } else if ((m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|\+Inf|NaN)$/))) {
      assert.ok(current && m[1].startsWith(current.name), `sample ${m[1]} outside its family`);
      current.samples.push({ name: m[1], labels: m[2] || '', value: Number(m[3]) });
    } else {
      assert.fail(`not the exposition format: ${JSON.stringify(line)}`);
    }
  }
  return families;
}

test('/metrics: valid exposition format, conventional names, and counters that move', async () => {
  const bridge = await new Bridge().start();
  try {
    const room = `met_${process.pid}_${Date.now()}`;
    await psql(`SELECT rt.create_room('chat', 'alice', NULL, '${room}')`);
    const c = await connect(bridge.wsUrl, jwt.token('alice'));
    await c.request({ type: 'join', room });
    await c.request({ type: 'send', room, body: 'counted' });
    await c.request({ type: 'join', room: 'not_mine' });
    const res = await fetch(`${bridge.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const fam = parse(await res.text());
    for (const [name, f] of fam) {
      assert.match(name, /^pgrt_[a-z_]+$/);
      if (f.type === 'counter') assert.match(name, /_total$/, `${name}: counters end in _total`);
      if (f.type === 'histogram') {
        assert.match(name, /_seconds$/, `${name}: durations are in seconds`);
        const buckets = f.samples.filter((s) => s.name === `${name}_bucket`).map((s) => s.value);
        assert.ok(buckets.length > 2);
        buckets.forEach((v, i) => i && assert.ok(v >= buckets[i - 1], `${name}: cumulative buckets`));
        assert.equal(f.samples.find((s) => s.name === `${name}_count`).value, buckets.at(-1));
      }
    }
    for (const required of ['pgrt_connections', 'pgrt_rooms', 'pgrt_frames_received_total', 'pgrt_frames_sent_total',
      'pgrt_commands_total', 'pgrt_command_duration_seconds', 'pgrt_notify_lag_seconds', 'pgrt_db_reconnects_total',
      'pgrt_slow_consumer_closes_total']) assert.ok(fam.has(required), `${required} is exported`);
    assert.equal(fam.get('pgrt_connections').samples[0].value, 1);
    assert.equal(fam.get('pgrt_rooms').samples[0].value, 1);
    const cmds = fam.get('pgrt_commands_total').samples;
    const count = (type, outcome) => cmds.find((s) => s.labels === `{type="${type}",outcome="${outcome}"}`)?.value ?? 0;
    assert.equal(count('send', 'ok'), 1);
    assert.equal(count('join', 'ok'), 1);
    assert.equal(count('join', 'FORBIDDEN'), 1);
    assert.ok(fam.get('pgrt_command_duration_seconds').samples.find((s) => s.name.endsWith('_count')).value >= 3);
    assert.ok(fam.get('pgrt_notify_lag_seconds').samples.find((s) => s.name.endsWith('_count')).value >= 1);
    await c.close();
  } finally {
    assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
  }
});
