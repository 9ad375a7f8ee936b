// A big meeting (above its presence threshold, docs/protocol.md "Presence and occupancy") in the demo
// and in pgrt.js against a real bridge: the meeting view shows "N watching" instead of every avatar,
// pgrt.js keeps `occupancy` and pages the roster, and when the room shrinks back to its threshold
// the full list returns. Needs PG* pointing at a migrated database, build/rt-bridge and /usr/bin/chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, until, psql, lit, token, makeRoom, client } from './lib/setup.mjs';
import { launch, openPage, screenshot } from './lib/browser.mjs';

let bridge, browser, meeting, page;
const guests = Array.from({ length: 6 }, (_, i) => `guest${i}`);
const clients = [], everyone = [];

before(async () => {
  bridge = await new Bridge().start();
  meeting = await makeRoom('meeting', 'alice', Object.fromEntries(guests.map((g) => [g, 'viewer'])), 'All hands');
  assert.equal(await psql(`SELECT rt.set_presence_threshold(${lit(meeting)}, 'alice', 3)`), '3');
  browser = await launch();
});

after(async () => {
  for (const c of everyone) c.close();
  await browser?.close();
  if (bridge) assert.deepEqual(await bridge.stop(), { code: 0, signal: null }, bridge.log.slice(-2000));
});

const watching = () => page.evaluate(() => {
  const el = document.querySelector('#main .room-head .watching');
  return el && !el.hidden ? el.textContent : null;
});

test('the meeting view shows how many watch a big meeting, and pgrt.js pages its roster', async () => {
  page = await openPage(browser, `${bridge.url}/?token=${token('alice')}&rooms=${meeting}#${meeting}`);
  await page.waitForSelector('#status[data-status="open"]', { timeout: 15000 });
  await page.waitForSelector('#main .online .who[title="alice is online"]');
  assert.equal(await watching(), null, 'a small meeting shows its avatars only');

  for (const g of guests.slice(0, 5)) {
    const c = client(bridge.wsUrl, g);
    clients.push(c);
    everyone.push(c);
    const room = c.join(meeting);
    await room.ready;
    c.room = room;
  }
  await until(async () => (await watching()) === '6 watching', { timeout: 10000, what: 'the page to show 6 watching' });
  const last = clients.at(-1).room;
  assert.equal(last.presenceComplete, false, 'the sixth joined a room above its threshold');
  assert.equal(last.info.occupancy, 6);
  await until(() => clients[0].room.occupancy === 6, { timeout: 5000, what: 'the first guest to count 6' });
  const p1 = await last.roster({ limit: 4 });
  assert.deepEqual(p1, { room: meeting, occupancy: 6, users: ['alice', 'guest0', 'guest1', 'guest2'], next: 'guest2' });
  const p2 = await last.roster({ after: p1.next });
  assert.deepEqual(p2.users, ['guest3', 'guest4']);
  assert.equal(p2.next, null);
  await screenshot(page, 'demo-meeting-watching.png');

  // Three leave: the count falls to the threshold (still a count), one more and the avatars return.
  for (const c of clients.splice(2, 3)) await c.room.leave();
  await until(async () => (await watching()) === '3 watching', { timeout: 10000, what: 'the page to show 3 watching' });
  await clients[1].room.leave();
  await until(async () => (await watching()) === null, { timeout: 10000, what: 'the count to give way to avatars' });
  await page.waitForSelector('#main .online .who[title="guest0 is online"]');
  const shown = await page.$$eval('#main .online .who', (els) => els.map((e) => e.title).sort());
  assert.deepEqual(shown, ['alice is online', 'guest0 is online']);
  await until(() => clients[0].room.presenceComplete && clients[0].room.occupancy === 2,
    { timeout: 5000, what: 'pgrt.js to read the whole list again' });
  assert.deepEqual([...clients[0].room.presence].sort(), ['alice', 'guest0']);
  assert.deepEqual(page.errors, []);
});
