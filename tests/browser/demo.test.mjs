// The demo page in headless Chromium against a real bridge: two users chat in real time, see each
// other typing and online, read receipts; the bridge restarts and both pages recover with no
// missing or doubled message; the conversation's state buttons; screenshots in artifacts/.
// Needs PG* pointing at a migrated database, build/rt-bridge and /usr/bin/chromium.
// Run: node --test --test-concurrency=1 tests/browser/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Bridge, ROOT, until, psql, lit, token, makeRoom } from './lib/setup.mjs';
import { launch, openPage, screenshot } from './lib/browser.mjs';

let bridge, browser, chat, conversation, meeting, alice, bob;

/** The example services' binaries, when built (the lead's build or a standalone one). */
const examples = [process.env.PGRT_EXAMPLES_DIR, path.join(ROOT, 'build/examples'), path.join(ROOT, 'build-examples')]
  .find((dir) => dir && fs.existsSync(path.join(dir, 'meeting-sim')) && fs.existsSync(path.join(dir, 'assistant')));
const SKIP_EXAMPLES = 'examples not built (cmake -S examples -B build-examples && cmake --build build-examples)';

/** Runs an example service; resolves to its exit code and log. */
function runExample(name, args) {
  const proc = spawn(path.join(examples, name), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.log = '';
  proc.stderr.on('data', (d) => { proc.log += d; });
  proc.done = new Promise((resolve) => proc.on('exit', (code) => resolve({ code, log: proc.log })));
  return proc;
}

const url = (user, room) => `${bridge.url}/?token=${token(user)}&rooms=${chat},${conversation},${meeting}#${room}`;

/** The bodies of the stored messages a page shows, in order (pending ones excluded). */
const bodies = (page) => page.$$eval('#main li.msg:not(.pending) .body', (els) => els.map((e) => e.textContent));

async function live(page) {
  await page.waitForSelector('#status[data-status="open"]', { timeout: 15000 });
}

before(async () => {
  bridge = await new Bridge().start();
  // The seeded demo rooms make the sidebar look like the real thing in the screenshots.
  await psql(fs.readFileSync(path.join(ROOT, 'examples/seed-demo.sql'), 'utf8').replace(/^\\.*$/gm, ''));
  chat = await makeRoom('chat', 'alice', { bob: 'member' }, 'Browser test chat');
  conversation = await makeRoom('conversation', 'alice', { bob: 'member', assistant: 'service' }, 'Browser test conversation');
  meeting = await makeRoom('meeting', 'alice', { bob: 'member', 'meeting-bot': 'service' }, 'Browser test meeting');
  browser = await launch();
  alice = await openPage(browser, url('alice', chat));
  bob = await openPage(browser, url('bob', chat));
  await Promise.all([live(alice), live(bob)]);
});

after(async () => {
  await browser?.close();
  if (bridge) assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
});

test('pgrt.js in the page opens its WebSocket with no token in the URL and sends it as the first frame', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), sent: [] };
    ws.on('framesent', (f) => s.sent.push(String(f.payload)));
    sockets.push(s);
  });
  await page.goto(url('alice', chat));
  await live(page);
  assert.ok(sockets.length >= 1, 'the page opened a WebSocket');
  for (const s of sockets) {
    assert.equal(new URL(s.url).search, '', `no query string: ${s.url}`);
    assert.ok(!s.url.includes('token'), s.url);
  }
  const first = JSON.parse(sockets[0].sent[0]);
  assert.equal(first.type, 'auth');
  assert.equal(first.token.split('.').length, 3, 'a JWT');
  assert.equal(JSON.parse(Buffer.from(first.token.split('.')[1], 'base64url')).sub, 'alice');
  await context.close();
});

test('the token leaves the address bar and the user is signed in', async () => {
  assert.ok(!alice.url().includes('token='), alice.url());
  assert.match(await alice.textContent('#me'), /alice/);
  assert.equal(await alice.getAttribute('#signin', 'hidden'), '');
});

test('presence and typing show in the other window', async () => {
  await alice.waitForSelector('#main .online .who[title="bob is online"]');
  await bob.waitForSelector('#main .online .who[title="alice is online"]');
  await bob.fill('#main .composer input', 'hel');
  await bob.type('#main .composer input', 'lo');
  await alice.waitForFunction(() => document.querySelector('#main .typing')?.textContent.includes('bob is typing'));
  await bob.fill('#main .composer input', '');
});

test('two users chat in real time, with read receipts', async () => {
  await alice.fill('#main .composer input', 'Hi Bob, can you see this?');
  await alice.press('#main .composer input', 'Enter');
  await bob.waitForFunction(() => [...document.querySelectorAll('#main li.msg .body')].some((e) => e.textContent === 'Hi Bob, can you see this?'));
  await bob.fill('#main .composer input', 'Loud and clear!');
  await bob.press('#main .composer input', 'Enter');
  await alice.waitForFunction(() => [...document.querySelectorAll('#main li.msg .body')].some((e) => e.textContent === 'Loud and clear!'));
  // Bob has the room open, so he marks it read; Alice sees his avatar under the newest message.
  await alice.waitForSelector('#main .readers .avatar[title="seen by bob"]');
  assert.deepEqual(await bodies(alice), await bodies(bob));
  assert.deepEqual(alice.errors, []);
});

test('the bridge restarts: both pages recover, nothing missing or doubled', async () => {
  await bridge.stop();
  await Promise.all([alice, bob].map((p) => p.waitForSelector('#status[data-status="reconnecting"]')));
  await alice.fill('#main .composer input', 'Sent while the bridge was down');
  await alice.press('#main .composer input', 'Enter');
  await alice.waitForSelector('#main li.msg.pending');
  await psql(`SELECT rt.post_message(${lit(chat)}, 'bob', 'Posted from psql during the restart')`);
  await bridge.start();
  await Promise.all([live(alice), live(bob)]);
  const expected = ['Hi Bob, can you see this?', 'Loud and clear!', 'Posted from psql during the restart',
    'Sent while the bridge was down'];
  for (const page of [alice, bob]) {
    await until(async () => (await bodies(page)).length === expected.length, { what: 'the pages to catch up', timeout: 15000 });
    assert.deepEqual(await bodies(page), expected);
    const seqs = await page.$$eval('#main li[data-seq]', (els) => els.map((e) => Number(e.dataset.seq)));
    assert.equal(new Set(seqs).size, seqs.length, `no seq twice: ${seqs}`);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
  }
  assert.equal(await alice.$$eval('#main li.msg.pending', (els) => els.length), 0);
  await alice.waitForSelector('#main .readers .avatar[title="seen by bob"]');
  await screenshot(alice, 'demo-chat.png');
});

test('conversation: the state machine moves live in both windows', async () => {
  await alice.goto(url('alice', conversation));
  await bob.evaluate((room) => { location.hash = room; }, conversation);
  await Promise.all([live(alice), live(bob)]);
  await alice.waitForSelector('#main .chip.current');
  assert.equal(await alice.textContent('#main .chip.current'), 'idle');
  await bob.click('#main button.move:has-text("listening")');
  await alice.waitForFunction(() => document.querySelector('#main .chip.current')?.textContent === 'listening');
  assert.match(await alice.textContent('#main .version'), /version 1/);
  // Members get no "ended" button; the owner does.
  assert.equal(await bob.$$eval('#main button.move', (els) => els.some((e) => e.textContent.includes('ended'))), false);
  assert.equal(await alice.$$eval('#main button.move', (els) => els.some((e) => e.textContent.includes('ended'))), true);
  await screenshot(alice, 'demo-conversation.png');
});

test('conversation: the example assistant answers and drives the state machine (when built)', async (t) => {
  if (!examples) return t.skip(SKIP_EXAMPLES);
  const assistant = runExample('assistant', ['--delay-ms', '150']);
  try {
    // It answers what it hears once it LISTENs: wait for that before posting.
    await until(() => assistant.log.includes('listening'), { what: 'the assistant to listen' });
    await bob.waitForSelector('#main .composer input');
    await bob.fill('#main .composer input', 'hello assistant, how does pgrt work?');
    await bob.press('#main .composer input', 'Enter');
    await alice.waitForSelector('#main li.msg.ai .body', { timeout: 15000 });
    await alice.waitForFunction(() => document.querySelector('#main .chip.current')?.textContent === 'waiting for user');
    await screenshot(alice, 'demo-assistant.png');
  } finally {
    assistant.kill('SIGTERM');
    const { code, log } = await assistant.done;
    assert.equal(code, 0, log);
  }
});

test('meeting: stages, transcript and summary from the example pipeline (when built)', async (t) => {
  if (!examples) return t.skip(SKIP_EXAMPLES);
  await alice.evaluate((room) => { location.hash = room; }, meeting);
  await alice.waitForSelector('#main .stages');
  const { code, log } = await runExample('meeting-sim', ['--once', meeting, '--pace-ms', '60']).done;
  assert.equal(code, 0, log);
  await alice.waitForSelector('#main .summary:not([hidden])');
  await alice.waitForSelector('#main .stage.done');
  const segments = await alice.$$eval('#main .segment:not(.interim)', (els) => els.length);
  assert.equal(segments, 6);
  await screenshot(alice, 'demo-meeting.png');
});

test('search box: results from every room the user may read, highlighted; a result opens its room', async () => {
  const word = `zebra${Date.now().toString(36)}`; // unique: the database may hold earlier runs' rooms
  await psql(`SELECT rt.post_message(${lit(chat)}, 'bob', ${lit(`A ${word} crossed`)});
              SELECT rt.post_message(${lit(meeting)}, 'alice', ${lit(`${word} <img src=x onerror="window.pwned=1">`)})`);
  await alice.evaluate((room) => { location.hash = room; }, chat);
  await alice.waitForSelector('#main .composer input');
  await alice.fill('#search input', word.toUpperCase());
  await alice.press('#search input', 'Enter');
  await alice.waitForFunction(() => document.querySelectorAll('#main .search li.result').length === 2);
  const results = await alice.$$eval('#main .search li.result', (els) => els.map((e) => ({
    room: e.dataset.room, mark: e.querySelector('.snippet mark')?.textContent, text: e.querySelector('.snippet').textContent })));
  assert.deepEqual(results, [
    { room: meeting, mark: word, text: `${word} <img src=x onerror="window.pwned=1">` },
    { room: chat, mark: word, text: `A ${word} crossed` },
  ], 'newest first; markup in a message is shown as text, never parsed');
  assert.equal(await alice.$$eval('#main .search .snippet img', (els) => els.length), 0);
  assert.equal(await alice.evaluate(() => window.pwned), undefined);
  await screenshot(alice, 'demo-search.png');
  await alice.click(`#main .search li.result[data-room="${chat}"]`);
  await alice.waitForSelector('#main .composer input');
  assert.equal(await alice.evaluate(() => location.hash.slice(1)), chat);
  await alice.fill('#search input', `${word}nothing`);
  await alice.press('#search input', 'Enter');
  await alice.waitForSelector('#main .search li.none');
  assert.equal(await alice.evaluate(() => location.hash), '', 'no room is open while results show');
  await alice.click(`#rooms a[href="#${chat}"]`);
  await alice.waitForSelector('#main .composer input');
});

test('erasure: the open page redacts the erased user\'s messages live', async () => {
  const carol = `carol-${Date.now().toString(36)}`;
  await psql(`SELECT rt.add_member(${lit(chat)}, ${lit(carol)}); SELECT rt.post_message(${lit(chat)}, ${lit(carol)}, 'carol was here')`);
  await alice.evaluate((room) => { location.hash = room; }, chat);
  await alice.waitForFunction(() => [...document.querySelectorAll('#main li.msg .body')].some((e) => e.textContent === 'carol was here'));
  await psql(`SELECT rt.erase_user(${lit(carol)}, 'test')`);
  await alice.waitForFunction((who) => [...document.querySelectorAll('#main li.note')].some((e) => e.textContent.includes(`${who}'s messages were erased`)), carol);
  const shown = await alice.$$eval('#main li.msg', (els, who) => els.filter((e) => e.dataset.actor === who)
    .map((e) => e.querySelector('.body').textContent), carol);
  assert.deepEqual(shown, ['message erased']);
  assert.ok(!(await bodies(alice)).includes('carol was here'));
  await screenshot(alice, 'demo-erased.png');
  assert.deepEqual(alice.errors, []);
});
