// app: the demo page. Signs in with a token, keeps one pgrt client, lists the rooms, shows one.
import { connect } from '/pgrt.js';
import { h, fill, $, avatar, toast } from './dom.js';
import { loadToken, saveToken, forgetToken, tokenProblem, claimsOf } from './session.js';
import { ChatView } from './chat.js';
import { StatePanel } from './conversation.js';
import { MeetingView } from './meeting.js';
import { SearchBox } from './search.js';

// The rooms examples/seed-demo.sql creates; more can be added by id (kept in this browser).
const DEMO_ROOMS = ['demo-chat', 'demo-assistant', 'demo-meeting'];
const ROOMS_KEY = 'pgrt.demo.rooms';
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

function storedRooms() {
  try {
    const list = JSON.parse(localStorage.getItem(ROOMS_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((id) => ROOM_ID.test(id)) : [];
  } catch {
    return [];
  }
}

function roomIds() {
  const fromUrl = (new URL(location.href).searchParams.get('rooms') ?? '').split(',').filter((id) => ROOM_ID.test(id));
  return [...new Set([...DEMO_ROOMS, ...storedRooms(), ...fromUrl])];
}

function showSignIn(message) {
  $('#app').hidden = true;
  $('#signout').hidden = true;
  $('#signin').hidden = false;
  fill($('#signin-problem'), message ?? '');
  $('#signin form').onsubmit = (e) => {
    e.preventDefault();
    const token = $('#signin textarea').value.trim();
    const problem = tokenProblem(token);
    if (problem) return fill($('#signin-problem'), problem);
    saveToken(token);
    location.reload();
  };
}

class App {
  constructor(token) {
    this.me = claimsOf(token).sub;
    this.entries = new Map(); // room id -> { room, item, view, unread }
    this.current = null;
    this.client = connect({ token });
    this.client.on('status', (s) => this.showStatus(s));
    this.client.on('system', (f) => { if (f.event !== 'shutdown') toast(`${f.event}: ${JSON.stringify(f.data ?? {})}`, 'info'); });
    this.client.on('error', (err) => toast(err.message));
    fill($('#me'), avatar(this.me, true), this.me);
    $('#signout').onclick = () => { this.client.close(); forgetToken(); location.reload(); };
    $('#add-room').onsubmit = (e) => {
      e.preventDefault();
      const id = e.target.room.value.trim();
      if (!ROOM_ID.test(id)) return toast('A room id is 1–64 letters, digits, - or _.');
      localStorage.setItem(ROOMS_KEY, JSON.stringify([...new Set([...storedRooms(), id])]));
      e.target.reset();
      this.add(id);
      location.hash = id;
    };
    this.search = new SearchBox(this.client, $('#search'), {
      show: (el) => {
        if (this.current) this.entries.get(this.current)?.view?.deactivate();
        for (const e of this.entries.values()) e.item.classList.remove('active');
        this.current = null;
        // No room is open: drop the hash so that picking any room (the same one too) changes it.
        history.replaceState(null, '', location.pathname + location.search);
        fill($('#main'), el);
      },
      open: (id) => {
        if (!this.entries.has(id)) this.add(id);
        location.hash = id;
      },
      title: (id) => this.entries.get(id)?.label.textContent ?? id,
    });
    for (const id of roomIds()) this.add(id);
    window.addEventListener('hashchange', () => this.select(decodeURIComponent(location.hash.slice(1))));
    this.select(decodeURIComponent(location.hash.slice(1)) || DEMO_ROOMS[0]);
  }

  add(id) {
    if (this.entries.has(id)) return;
    const badge = h('span.badge');
    const label = h('span.label', {}, id);
    const kind = h('span.kind');
    const item = h('li', {}, h('a', { href: `#${id}` }, label, kind, badge));
    $('#rooms').append(item);
    const entry = { id, item, label, kind, badge, view: null, unread: 0 };
    this.entries.set(id, entry);
    const room = this.client.join(id, {
      onJoin: (info) => this.joined(entry, info),
      onEvent: (ev) => this.counted(entry, ev),
      onError: (err) => {
        item.classList.add('refused');
        item.title = `${err.code}: ${err.message}`;
        fill(kind, err.code === 'FORBIDDEN' ? 'no access' : err.code.toLowerCase());
        if (this.current === id) this.select(id);
      },
    });
    entry.room = room;
  }

  joined(entry, info) {
    fill(entry.kind, info.kind);
    if (!entry.view) {
      // Views are made on the first join reply (the kind decides which); later replies reach them as events.
      if (info.kind === 'meeting') entry.view = new MeetingView(this.client, entry.room, info);
      else if (info.kind === 'conversation') entry.view = new ChatView(this.client, entry.room, info, new StatePanel(entry.room, info).el);
      else entry.view = new ChatView(this.client, entry.room, info);
      this.fetchTitle(entry);
      if (this.current === entry.id) this.select(entry.id);
    }
  }

  /** The title is in room_created (seq 1), unless retention pruned it. */
  async fetchTitle(entry) {
    try {
      const [created] = await entry.room.history({ before: 2, limit: 1 });
      const title = created?.event === 'room_created' ? created.data?.title : null;
      if (title) {
        fill(entry.label, title);
        entry.view.setTitle(title);
      }
    } catch {
      // The id stays as the label.
    }
  }

  counted(entry, ev) {
    if (this.current === entry.id && document.visibilityState === 'visible') return;
    if (ev.actor === this.me || !['message', 'ai_response', 'summary'].includes(ev.event)) return;
    entry.unread += 1;
    fill(entry.badge, String(entry.unread));
  }

  select(id) {
    const entry = this.entries.get(id) ?? this.entries.get(DEMO_ROOMS[0]);
    if (!entry) return;
    if (this.current && this.current !== entry.id) this.entries.get(this.current)?.view?.deactivate();
    this.current = entry.id;
    for (const e of this.entries.values()) e.item.classList.toggle('active', e === entry);
    entry.unread = 0;
    fill(entry.badge);
    const main = $('#main');
    if (entry.item.classList.contains('refused')) {
      fill(main, h('div.empty', {}, h('h2', {}, entry.id), h('p', {}, entry.item.title),
        h('p', {}, 'Rooms you are not a member of look the same as rooms that do not exist.')));
    } else if (!entry.view) {
      fill(main, h('div.empty', {}, h('p', {}, `Joining ${entry.id}…`)));
    } else {
      fill(main, entry.view.el);
      entry.view.activate();
    }
  }

  showStatus(s) {
    const pill = $('#status');
    if (s.status === 'open') this.everOpen = true;
    // Browsers hide why an upgrade failed: a refused token (HTTP 401) looks like a bridge that is down.
    if (s.status === 'reconnecting' && !this.everOpen && s.attempt === 3) {
      toast('Cannot connect: the bridge is down, or it refuses this token. Sign out to use another one.');
    }
    pill.dataset.status = s.status;
    const queued = s.queued ? ` · ${s.queued} queued` : '';
    const text = {
      connecting: 'connecting…',
      open: `live · ${s.bridge ?? ''}`,
      reconnecting: `reconnecting in ${Math.ceil((s.delay ?? 0) / 1000)} s${queued}`,
      closed: 'disconnected',
    }[s.status] ?? s.status;
    fill(pill, text);
    pill.title = s.reason ? `${s.code ?? ''} ${s.reason}` : '';
    if (s.status === 'closed' && s.code === 4001) {
      forgetToken();
      showSignIn('Your token expired. Get a new one with scripts/dev.sh token USER.');
    }
  }
}

const token = loadToken();
const problem = tokenProblem(token);
if (problem) {
  showSignIn(token ? problem : null);
} else {
  $('#signin').hidden = true;
  $('#app').hidden = false;
  window.pgrtDemo = new App(token); // handy in the console and for the browser tests
}
