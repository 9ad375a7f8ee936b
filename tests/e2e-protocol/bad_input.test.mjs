// Bad input of every kind (docs/protocol.md, delivery guarantee 5): a clear error, nothing stored, the connection and the
// bridge keep working. Each case checks the room's event count before and after through psql.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bridge, open, closeAll, makeRoom, uid, psql, lit, eventCount, checkError, checkReply, PClient, jwt,
} from './lib/proto.mjs';

let bridge, alice, room, conv, a;
before(async () => {
  bridge = await new Bridge().start();
  alice = uid('alice');
  room = await makeRoom({ owner: alice });
  conv = await makeRoom({ kind: 'conversation', owner: alice });
  a = await open(bridge, alice);
  await a.join(room);
  await a.join(conv);
  await a.ok({ type: 'send', room, body: 'a message to edit' }); // seq 2
});
after(async () => {
  await closeAll(a);
  const status = await bridge.stop();
  assert.deepEqual(status, { code: 0, signal: null }, bridge.log.slice(-3000));
});

async function counts() {
  return [await eventCount(room), await eventCount(conv),
    Number(await psql(`SELECT count(*) FROM rt.rooms WHERE id !~ '^[A-Za-z0-9_-]{1,64}$'`))];
}

/** Sends a raw frame and returns the first reply/error frame that follows it. */
async function rawError(c, raw, { binary = false, ref } = {}) {
  const p = c.next((f) => (ref ? f.type === 'reply' && f.ref === ref : f.type === 'error'), 5000);
  c.ws.send(raw, { binary });
  return p;
}

/** The connection still works: a ping round trip and a valid command. */
async function stillUsable(c) {
  await c.barrier();
  await c.ok({ type: 'history', room, limit: 1 });
}

describe('frames that are not a JSON object get an error frame with BAD_REQUEST', () => {
  const cases = {
    'not JSON': '{"type":"send","room":',
    'garbage text': 'hello there',
    'empty text': '',
    'a JSON array': '[{"type":"send"}]',
    'a JSON number': '12345',
    'a JSON string': '"send"',
    'JSON null': 'null',
    'JSON true': 'true',
    'a trailing second value': '{"type":"ping","ref":"x"} {"type":"ping"}',
    'deeply nested arrays': '['.repeat(50000) + ']'.repeat(50000),
    'deeply nested objects': '{"a":'.repeat(20000) + '1' + '}'.repeat(20000),
  };
  for (const [name, raw] of Object.entries(cases)) {
    test(name, async () => {
      const c = await open(bridge, alice);
      const before = await counts();
      const err = await rawError(c, raw);
      checkError(err);
      assert.equal(err.code, 'BAD_REQUEST');
      assert.deepEqual(await counts(), before);
      await stillUsable(c);
      await closeAll(c);
    });
  }

  test('invalid UTF-8 in a text frame: error frame BAD_REQUEST (or close 1007), nothing stored', async () => {
    const c = await open(bridge, alice);
    await c.join(room);
    const before = await counts();
    const raw = Buffer.concat([Buffer.from(`{"type":"send","room":"${room}","ref":"u8","body":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const outcome = Promise.race([
      c.next((f) => f.type === 'error' || (f.type === 'reply' && f.ref === 'u8')).then((f) => ({ frame: f })),
      c.closed.then((cl) => ({ close: cl })),
    ]);
    c.ws.send(raw, { binary: false });
    const o = await outcome;
    if (o.close) assert.equal(o.close.code, 1007, `closed with ${o.close.code}`);
    else {
      assert.equal(o.frame.ok, o.frame.type === 'reply' ? false : undefined, JSON.stringify(o.frame));
      checkError(o.frame.type === 'reply' ? o.frame.error : o.frame);
      assert.equal((o.frame.error ?? o.frame).code, 'BAD_REQUEST');
    }
    assert.deepEqual(await counts(), before);
    await closeAll(c);
  });

  test('a binary frame: error frame BAD_REQUEST (or close 1003), nothing stored', async () => {
    const c = await open(bridge, alice);
    await c.join(room);
    const before = await counts();
    const outcome = Promise.race([
      c.next((f) => f.type === 'error').then((f) => ({ frame: f })),
      c.closed.then((cl) => ({ close: cl })),
    ]);
    c.ws.send(Buffer.from(JSON.stringify({ type: 'send', room, body: 'binary' })), { binary: true });
    const o = await outcome;
    if (o.close) assert.equal(o.close.code, 1003, `closed with ${o.close.code}`);
    else { checkError(o.frame); assert.equal(o.frame.code, 'BAD_REQUEST'); }
    assert.deepEqual(await counts(), before);
    await closeAll(c);
  });
});

describe('frames with a usable ref get a reply with BAD_REQUEST and store nothing', () => {
  const R = () => room;
  const C = () => conv;
  const cases = {
    'unknown type': () => ({ type: 'explode', room: R() }),
    'type missing': () => ({ room: R(), body: 'x' }),
    'type not a string': () => ({ type: 7, room: R() }),
    'type in other case': () => ({ type: 'SEND', room: R(), body: 'x' }),
    'room as a number': () => ({ type: 'send', room: 123, body: 'x' }),
    'room as an object': () => ({ type: 'send', room: { id: R() }, body: 'x' }),
    'room as an array': () => ({ type: 'join', room: [R()] }),
    'room empty': () => ({ type: 'send', room: '', body: 'x' }),
    'room with SQL metacharacters (send)': () => ({ type: 'send', room: "x'; DROP TABLE rt.events; --", body: 'x' }),
    'room with SQL metacharacters (join)': () => ({ type: 'join', room: "x' OR '1'='1" }),
    'room with SQL metacharacters (history)': () => ({ type: 'history', room: 'x"); DELETE FROM rt.events; --' }),
    'room with a NUL': () => ({ type: 'send', room: 'ab\u0000cd', body: 'x' }),
    'room with unicode lookalikes': () => ({ type: 'join', room: 'rооm' }),
    'body as a number': () => ({ type: 'send', room: R(), body: 42 }),
    'body as an object': () => ({ type: 'send', room: R(), body: { text: 'x' } }),
    'body with a NUL character': () => ({ type: 'send', room: R(), body: 'a\u0000b' }),
    'data as an array': () => ({ type: 'publish', room: R(), event: 'status', data: [] }),
    'data as a string': () => ({ type: 'publish', room: R(), event: 'status', data: '{}' }),
    'data with a NUL inside': () => ({ type: 'publish', room: R(), event: 'status', data: { s: '\u0000' } }),
    // Parseable by the bridge, but deeper than the 64 levels meta/data may have (sql-api.md).
    'data nested 100 levels deep': () => ({ type: 'publish', room: R(), event: 'status', data: { a: JSON.parse('['.repeat(100) + ']'.repeat(100)) } }),
    'meta nested 100 levels deep': () => ({ type: 'send', room: R(), body: 'x', meta: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) }),
    'event as a number': () => ({ type: 'publish', room: R(), event: 1, data: {} }),
    'seq as a string': () => ({ type: 'edit', room: R(), seq: '2', body: 'x' }),
    'seq as a float': () => ({ type: 'edit', room: R(), seq: 2.5, body: 'x' }),
    'seq negative (edit)': () => ({ type: 'edit', room: R(), seq: -2, body: 'x' }),
    'seq negative (delete)': () => ({ type: 'delete', room: R(), seq: -1 }),
    'seq negative (read)': () => ({ type: 'read', room: R(), seq: -5 }),
    'seq zero (delete)': () => ({ type: 'delete', room: R(), seq: 0 }),
    'seq huge (1e300)': () => ({ type: 'edit', room: R(), seq: 1e300, body: 'x' }),
    'seq beyond int64 (raw)': () => `{"type":"delete","room":"${R()}","seq":92233720368547758070}`,
    'seq 2^63 exactly (raw)': () => `{"type":"read","room":"${R()}","seq":9223372036854775808}`,
    'duplicate room keys (raw)': () => `{"type":"send","room":"${R()}","room":"${C()}","body":"which room?"}`,
    'duplicate body keys (raw)': () => `{"type":"send","room":"${R()}","body":"one","body":"two"}`,
    // jansson reads it as 0; PostgreSQL's jsonb refuses more than 16383 digits after the point
    'a number too small for PostgreSQL (raw)': () => `{"type":"send","room":"${R()}","body":"x","n":1e-20000}`,
    'a lone surrogate escape in body (raw)': () => `{"type":"send","room":"${R()}","body":"a\\ud800b"}`,
    'since negative': () => ({ type: 'join', room: R(), since: -1 }),
    'since huge': () => ({ type: 'join', room: R(), since: 1e300 }),
    'since as a string': () => ({ type: 'join', room: R(), since: '0' }),
    'since as a boolean': () => ({ type: 'join', room: R(), since: true }),
    'before negative': () => ({ type: 'history', room: R(), before: -1 }),
    'limit huge': () => ({ type: 'history', room: R(), limit: 1e12 }),
    'limit negative': () => ({ type: 'history', room: R(), limit: -5 }),
    'expect huge': () => ({ type: 'state', room: C(), to: 'LISTENING', expect: 99999999999 }),
    'expect negative': () => ({ type: 'state', room: C(), to: 'LISTENING', expect: -1 }),
    'to as a number': () => ({ type: 'state', room: C(), to: 1 }),
    'media_url not a URL': () => ({ type: 'send', room: R(), body: 'x', media_url: 'file:///etc/passwd' }),
    'client_msg_id too long': () => ({ type: 'send', room: R(), body: 'x', client_msg_id: 'k'.repeat(200) }),
    'client_msg_id with control characters': () => ({ type: 'send', room: R(), body: 'x', client_msg_id: 'a\nb' }),
  };
  // JSON the bridge's parser may refuse as a whole (a NUL escape, an integer beyond int64): the ref is
  // then unusable, and an error frame is an acceptable answer instead of a reply.
  const parserLevel = /NUL|int64|2\^63|duplicate|surrogate/;
  let n = 0;
  for (const [name, make] of Object.entries(cases)) {
    test(name, async () => {
      const c = await open(bridge, alice);
      await c.join(room);
      const before = await counts();
      const ref = `bad-${++n}`;
      const f = make();
      const raw = typeof f === 'string' ? f.replace(/^\{/, `{"ref":"${ref}",`) : JSON.stringify({ ...f, ref });
      const p = c.next((x) => (x.type === 'reply' && x.ref === ref) || x.type === 'error', 5000);
      c.ws.send(raw);
      const reply = await p;
      if (reply.type === 'error' && parserLevel.test(name)) {
        checkError(reply);
        assert.equal(reply.code, 'BAD_REQUEST', JSON.stringify(reply));
      } else {
        assert.equal(reply.type, 'reply', `a frame with a usable ref got ${JSON.stringify(reply)}`);
        checkReply(reply);
        assert.equal(reply.ok, false, JSON.stringify(reply));
        assert.equal(reply.error.code, 'BAD_REQUEST', JSON.stringify(reply.error));
      }
      assert.deepEqual(await counts(), before, 'something was stored');
      assert.equal(await psql(`SELECT to_regclass('rt.events') IS NOT NULL`), 't');
      await stillUsable(c);
      await closeAll(c);
    });
  }
});

describe('frames that need a ref but have none get an error frame and store nothing', () => {
  const frames = () => ({
    join: { type: 'join', room },
    leave: { type: 'leave', room },
    send: { type: 'send', room, body: 'no ref' },
    publish: { type: 'publish', room, event: 'status', data: {} },
    state: { type: 'state', room: conv, to: 'LISTENING' },
    edit: { type: 'edit', room, seq: 2, body: 'no ref' },
    delete: { type: 'delete', room, seq: 2 },
    history: { type: 'history', room },
    auth: { type: 'auth', token: jwt.token(alice) },
  });
  for (const type of ['join', 'leave', 'send', 'publish', 'state', 'edit', 'delete', 'history', 'auth']) {
    test(type, async () => {
      const c = await open(bridge, alice);
      if (type === 'leave') await c.join(room);
      const before = await counts();
      c.send(frames()[type]);
      const err = await c.next((f) => f.type === 'error' || f.type === 'reply', 3000).catch(() => null);
      await c.barrier();
      assert.deepEqual(await counts(), before, 'a ref-less command was executed');
      assert.ok(err, `no error frame for a ${type} without ref`);
      assert.equal(err.type, 'error', JSON.stringify(err));
      checkError(err);
      assert.equal(err.code, 'BAD_REQUEST');
      await closeAll(c);
    });
  }

  const badRefs = { 'a number': 7, 'an object': { a: 1 }, 'an empty string': '', 'a 10 KiB string': 'r'.repeat(10240), null: null };
  for (const [name, ref] of Object.entries(badRefs)) {
    test(`ref as ${name}: error frame (or, for a string ref, a reply), nothing stored`, async () => {
      const c = await open(bridge, alice);
      await c.join(room);
      const before = await counts();
      c.send({ type: 'send', room, body: 'bad ref', ref });
      const f = await c.next((x) => x.type === 'error' || (x.type === 'reply' && x.ref === ref), 5000);
      if (f.type === 'error') {
        checkError(f);
        assert.equal(f.code, 'BAD_REQUEST');
        assert.deepEqual(await counts(), before);
      } else {
        // A long or empty string is still a string: the bridge may accept it as a ref.
        assert.equal(typeof ref, 'string', `a non-string ref got a reply: ${JSON.stringify(f).slice(0, 200)}`);
      }
      await stillUsable(c);
      await closeAll(c);
    });
  }
});

describe('oversized frames', () => {
  test('a frame over the limit closes with 1009 and stores nothing; other clients carry on', async () => {
    const c = await open(bridge, alice);
    await c.join(room);
    const before = await counts();
    c.send({ type: 'send', room, ref: 'big', body: 'x'.repeat(1024 * 1024) });
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.equal(c.replies('big').length, 0);
    assert.deepEqual(await counts(), before);
    await stillUsable(a);
  });

  test('a 2 MiB frame sent in 64 KiB fragments also closes with 1009', async () => {
    const c = await open(bridge, alice);
    const text = JSON.stringify({ type: 'send', room, ref: 'frag', body: 'y'.repeat(2 * 1024 * 1024) });
    for (let i = 0; i < text.length; i += 65536) c.ws.send(text.slice(i, i + 65536), { fin: i + 65536 >= text.length });
    assert.equal((await c.closed).code, 1009);
  });
});

/**
 * Bob sends 40 valid messages while alice's one bad frame (sent by `sendBad(aliceClient, room)`,
 * which resolves to its reply or error) goes in among them: his all succeed, hers alone fails.
 */
async function failsAloneAmidGoodSends(sendBad) {
  const bob = uid('bob');
  const r = await makeRoom({ owner: alice, members: { [bob]: 'member' } });
  const x = await open(bridge, alice), y = await open(bridge, bob);
  await x.join(r); await y.join(r);
  const goods = [];
  for (let i = 0; i < 20; i++) goods.push(y.request({ type: 'send', room: r, body: `good ${i}` }));
  const bad = sendBad(x, r);
  for (let i = 20; i < 40; i++) goods.push(y.request({ type: 'send', room: r, body: `good ${i}` }));
  for (const rep of await Promise.all(goods)) assert.equal(rep.ok, true, JSON.stringify(rep));
  const refusal = await bad;
  assert.equal(await eventCount(r), 2 + 40);
  await closeAll(x, y);
  return refusal;
}

describe('hostile input never breaks other clients\' commands', () => {
  test('a NUL-containing frame sent amid valid sends from others fails alone', async () => {
    // BAD_REQUEST: a reply, or an error frame if the parser refused the frame whole.
    const b = await failsAloneAmidGoodSends((x, r) =>
      Promise.race([x.request({ type: 'send', room: r, body: 'bad\u0000' }), x.next((f) => f.type === 'error')]));
    assert.equal((b.error ?? b).code, 'BAD_REQUEST', JSON.stringify(b));
  });

  // A raw NUL byte between tokens: jansson reads on past it, libpq would cut the rt.batch text there.
  for (const [name, raw] of [
    ['after a number', (r) => `{"type":"history","room":"${r}","ref":"nul","limit":1\u0000}`],
    ['before the closing brace of a send', (r) => `{"type":"send","room":"${r}","ref":"nul","body":"x"\u0000}`],
  ]) {
    test(`a raw NUL byte ${name}, amid valid sends from others, fails alone with its ref`, async () => {
      const b = await failsAloneAmidGoodSends((x, r) => {
        const reply = x.next((f) => (f.type === 'reply' && f.ref === 'nul') || f.type === 'error', 5000);
        x.ws.send(raw(r));
        return reply;
      });
      assert.equal(b.type, 'reply', JSON.stringify(b));
      assert.equal(b.ok, false);
      assert.equal(b.error.code, 'BAD_REQUEST', JSON.stringify(b));
      assert.match(b.error.message, /NUL byte/);
    });
  }
});

describe('numbers PostgreSQL cannot hold', () => {
  // Found while fuzzing: such a frame went into rt.batch as jsonb with other connections' commands,
  // and PostgreSQL's refusal failed the whole batch (INTERNAL for everyone in it).
  test('a 1e-20000 frame sent amid valid sends from others fails alone, with its ref', async () => {
    const b = await failsAloneAmidGoodSends((x, r) => {
      const reply = x.next((f) => f.type === 'reply' && f.ref === 'tiny', 5000);
      x.ws.send(`{"type":"send","room":"${r}","ref":"tiny","body":"x","n":1e-20000}`);
      return reply;
    });
    assert.equal(b.ok, false);
    assert.equal(b.error.code, 'BAD_REQUEST', JSON.stringify(b));
  });
});

test('the bridge is healthy after all of it', async () => {
  const h = await bridge.health();
  assert.equal(h.status, 200);
  assert.equal(h.body.db, 'up');
});
