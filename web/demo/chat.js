// chat: the view of a chat or conversation room: header with who is online, the timeline, who is
// typing, and the composer. A conversation room adds its state-machine panel above the timeline.
import { h, fill, avatar, toast } from './dom.js';
import { Timeline } from './timeline.js';

/**
 * Room title, kind and the avatars of the users online; shared by every kind of room view. A view
 * of a big room (above its presence threshold, docs/protocol.md "Presence and occupancy") also shows
 * how many are there with setWatching(n); setWatching(null) hides it.
 */
export function roomHeader(room, title) {
  const online = h('div.online', { 'aria-label': 'online' });
  const watching = h('span.watching', { hidden: true, 'aria-live': 'polite' });
  const name = h('h2', {}, title ?? room.id);
  const kind = h('span.kind');
  const el = h('header.room-head', {}, h('div', {}, name, kind, watching), online);
  return {
    el,
    setTitle: (text) => fill(name, text),
    setKind: (text) => fill(kind, text),
    setPresence: (users) => fill(online, users.map((u) => h('span.who', { title: `${u} is online` }, avatar(u, true), u))),
    setWatching: (n) => {
      watching.hidden = n === null;
      fill(watching, n === null ? '' : `${n.toLocaleString('en-US')} watching`);
    },
  };
}

export class ChatView {
  /** `info`: the first join reply; `panel`: an optional element between the header and the timeline. */
  constructor(client, room, info, panel = null) {
    this.client = client;
    this.room = room;
    this.active = false;
    this.readSent = 0;
    this.header = roomHeader(room);
    this.timeline = new Timeline(room, client.user);
    this.typingLine = h('div.typing', { 'aria-live': 'polite' });
    this.input = h('input', { name: 'body', placeholder: 'Write a message…', autocomplete: 'off', maxlength: 4000,
      'aria-label': 'Message' });
    this.composer = h('form.composer', { onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      this.input, h('button', { type: 'submit' }, 'Send'));
    this.input.addEventListener('input', () => room.typing(this.input.value.length > 0));
    this.input.addEventListener('blur', () => room.typing(false));
    this.el = h('section.room.chat', {}, this.header.el, panel, this.timeline.el, this.typingLine, this.composer);

    room.on('join', (info) => this.onJoin(info));
    room.on('event', (ev) => { this.timeline.apply(ev); this.markRead(); });
    room.on('presence', (users) => this.header.setPresence(users));
    room.on('typing', (users) => this.showTyping(users));
    room.on('read', ({ user, seq }) => this.timeline.setReader(user, seq));
    document.addEventListener('visibilitychange', () => this.markRead());
    window.addEventListener('focus', () => this.markRead());
    this.onJoin(info);
    this.header.setPresence([...room.presence]);
  }

  onJoin(info) {
    this.header.setKind(info.kind);
    this.timeline.canModerate = info.role === 'owner';
    const readOnly = info.role === 'viewer' || info.ended;
    this.input.disabled = readOnly;
    this.input.placeholder = readOnly ? 'This room is read-only for you' : 'Write a message…';
    if (!info.resumed) this.timeline.loadInitial(Number(info.seq) || 0).then(() => this.markRead());
  }

  async submit() {
    const body = this.input.value.trim();
    if (!body) return;
    this.input.value = '';
    const id = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    this.timeline.addPending(id, body, this.client.status !== 'open');
    try {
      await this.room.send(body, { client_msg_id: id });
    } catch (err) {
      this.timeline.failPending(id, err);
      toast(`send: ${err.message}`);
    }
  }

  showTyping(users) {
    const names = users.filter((u) => u !== this.client.user);
    fill(this.typingLine, names.length === 0 ? '' :
      `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`);
  }

  /** Read receipts: mark up to the newest delivered event while this room is on screen. */
  markRead() {
    const seq = this.room.lastSeq ?? 0;
    if (!this.active || document.visibilityState !== 'visible' || seq <= this.readSent || !this.room.joined) return;
    this.readSent = seq;
    this.room.read(seq).catch(() => { this.readSent = 0; });
  }

  setTitle(text) { this.header.setTitle(text); }

  activate() {
    this.active = true;
    this.markRead();
    this.timeline.scrollToEnd();
    if (!this.input.disabled) this.input.focus();
  }

  deactivate() { this.active = false; }
}
