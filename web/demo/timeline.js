// timeline: a room's messages in seq order (live events, history pages, messages still being
// sent), with edits, deletions, read receipts and "load earlier" paging.
import { redactErased } from '/pgrt.js';
import { h, fill, avatar, clock, userColor, toast } from './dom.js';

const PAGE = 30;

export class Timeline {
  /** `me`: this user's id; `canModerate`: the owner may edit/delete anyone's message. */
  constructor(room, me) {
    this.room = room;
    this.me = me;
    this.canModerate = false;
    this.items = new Map();     // seq -> { ev, el }
    this.seqs = [];             // rendered seqs, ascending
    this.changes = new Map();   // message seq -> newest edit/delete seen { at: seq, body, deleted }
    this.pending = new Map();   // client_msg_id -> element of a message not yet stored
    this.readers = new Map();   // user -> { seq, el }
    this.oldest = null;         // lowest seq fetched so far
    this.exhausted = false;
    this.more = h('button.more', { onclick: () => this.loadOlder() }, 'Load earlier messages');
    this.list = h('ol.timeline', { 'aria-live': 'polite' });
    this.el = h('div.scroller', {}, this.more, this.list);
    this.el.addEventListener('scroll', () => { if (this.el.scrollTop < 40) this.loadOlder(); });
  }

  /** First page: the newest messages up to the join reply's seq (live ones come as events). */
  async loadInitial(uptoSeq) {
    this.oldest = uptoSeq + 1;
    await this.loadOlder();
    this.scrollToEnd();
  }

  async loadOlder() {
    if (this.loading || this.exhausted || this.oldest === null || this.oldest <= 1) return this.updateMore();
    this.loading = true;
    const height = this.el.scrollHeight;
    try {
      // A page also stops at 256 KiB of events: `more` (not its length) says whether older ones exist.
      const { events, more } = await this.room.historyPage({ before: this.oldest, limit: PAGE });
      // Newer pages came first, so edits seen there must not be overwritten by older ones.
      for (const ev of events) this.apply(ev);
      if (events.length) this.oldest = Math.min(this.oldest, events[0].seq);
      if (!more || this.oldest <= 1) this.exhausted = true;
      this.el.scrollTop += this.el.scrollHeight - height; // keep what the user was reading in place
    } catch (err) {
      toast(`history: ${err.message}`);
    } finally {
      this.loading = false;
      this.updateMore();
    }
  }

  updateMore() { this.more.hidden = this.exhausted || this.oldest === null || this.oldest <= 1; }

  /** Applies one persisted event, live or from history, in any order, idempotently. */
  apply(ev) {
    if (ev.event === 'message_edited' || ev.event === 'message_deleted') return this.applyChange(ev);
    if (ev.event === 'user_erased') this.applyErasure(ev);
    if (this.items.has(ev.seq)) return;
    const el = this.render(ev);
    if (!el) return;
    this.insert(ev, el);
    if (ev.event === 'message' && ev.data?.client_msg_id) {
      this.pending.get(ev.data.client_msg_id)?.remove();
      this.pending.delete(ev.data.client_msg_id);
    }
    this.placeReaders();
  }

  applyChange(ev) {
    const target = ev.data?.seq;
    const prior = this.changes.get(target);
    if (prior && prior.at > ev.seq) return;
    const deleted = ev.event === 'message_deleted' || ev.data?.deleted === true;
    this.changes.set(target, { at: ev.seq, body: ev.data?.body, deleted });
    const item = this.items.get(target);
    if (item) this.renderBody(item);
  }

  /** user_erased (docs/protocol.md "Erasure"): their messages up to `upto` become tombstones here too. */
  applyErasure(ev) {
    const { user, upto } = ev.data ?? {};
    const theirs = new Set();
    for (const [seq, item] of this.items) {
      if (seq > upto || item.ev.actor !== user || item.ev.event !== 'message') continue;
      theirs.add(seq);
      redactErased(item.ev, user);
      this.changes.delete(seq);
      this.renderBody(item);
    }
    for (const [target, change] of this.changes) if (theirs.has(target)) change.body = null;
  }

  insert(ev, el) {
    const atEnd = this.nearEnd();
    let i = this.seqs.length;
    while (i > 0 && this.seqs[i - 1] > ev.seq) i -= 1;
    this.seqs.splice(i, 0, ev.seq);
    const next = this.items.get(this.seqs[i + 1]);
    const item = { ev, el };
    this.items.set(ev.seq, item);
    if (next) this.list.insertBefore(el, next.el);
    else this.list.insertBefore(el, this.list.querySelector('li.pending'));
    if (ev.event === 'message') this.renderBody(item);
    if (atEnd) this.scrollToEnd();
  }

  render(ev) {
    const who = ev.actor;
    switch (ev.event) {
      case 'message': return this.bubble(ev, who, h('div.body'));
      case 'ai_response': return this.bubble(ev, who, h('div.body', {}, ev.data?.text ?? ''), 'ai');
      case 'member_added': return this.note(ev, `${ev.data?.user} was added as ${ev.data?.role}`);
      case 'member_removed': return this.note(ev, `${ev.data?.user} was removed`);
      case 'user_erased': return this.note(ev, `${ev.data?.user}'s messages were erased`);
      case 'room_created': return this.note(ev, `${who} created “${ev.data?.title ?? this.room.id}”`);
      case 'room_ended': return this.note(ev, `${who} ended the room`);
      case 'state': return this.note(ev, `${who}: ${ev.data?.from} → ${ev.data?.to}`);
      default: return null;
    }
  }

  bubble(ev, who, body, extra = '') {
    const mine = who === this.me;
    const actions = h('span.actions');
    return h(`li.msg${mine ? '.mine' : ''}${extra ? `.${extra}` : ''}`, { dataset: { seq: ev.seq, actor: who } },
      avatar(who),
      h('div.bubble', {},
        h('div.meta', {}, h('b', { style: `color:${userColor(who)}` }, who), ' ', h('time', { datetime: ev.at }, clock(ev.at)),
          h('span.edited'), actions),
        body),
      h('div.readers'));
  }

  note(ev, text) {
    return h('li.note', { dataset: { seq: ev.seq } }, text, ' · ', h('time', { datetime: ev.at }, clock(ev.at)));
  }

  /** The body as it is now: the original, its newest edit, or deleted; plus the edit/delete buttons. */
  renderBody(item) {
    const { ev, el } = item;
    const change = this.changes.get(ev.seq);
    const erased = ev.data?.erased === true;
    const deleted = erased || change?.deleted || ev.data?.deleted === true;
    const body = erased ? 'message erased' : deleted ? 'message deleted' : (change?.body ?? ev.data?.body ?? '');
    el.classList.toggle('deleted', Boolean(deleted));
    fill(el.querySelector('.body'), body);
    fill(el.querySelector('.edited'), change && !deleted ? ' (edited)' : '');
    const actions = el.querySelector('.actions');
    fill(actions);
    if (!deleted && (ev.actor === this.me || this.canModerate)) {
      actions.append(
        h('button.link', { title: 'Edit', onclick: () => this.startEdit(item) }, 'edit'),
        h('button.link', { title: 'Delete', onclick: () => this.remove(item) }, 'delete'));
    }
  }

  startEdit(item) {
    const bodyEl = item.el.querySelector('.body');
    const current = bodyEl.textContent;
    const input = h('input.edit', { value: current, 'aria-label': 'Edit message' });
    const done = () => this.renderBody(item);
    input.addEventListener('keydown', async (e) => {
      if (e.key === 'Escape') return done();
      if (e.key !== 'Enter') return;
      const body = input.value.trim();
      if (!body || body === current) return done();
      input.disabled = true;
      try {
        await this.room.edit(item.ev.seq, body); // the message_edited event re-renders it
      } catch (err) {
        toast(`edit: ${err.message}`);
        done();
      }
    });
    input.addEventListener('blur', done);
    fill(bodyEl, input);
    input.focus();
  }

  async remove(item) {
    if (!confirm('Delete this message for everyone?')) return;
    try {
      await this.room.delete(item.ev.seq);
    } catch (err) {
      toast(`delete: ${err.message}`);
    }
  }

  /** Shows a message that was handed to room.send() but is not stored yet (offline: queued). */
  addPending(clientMsgId, body, queued) {
    const el = h('li.msg.mine.pending', { dataset: { cmid: clientMsgId } }, avatar(this.me),
      h('div.bubble', {}, h('div.meta', {}, h('b', {}, this.me), ' ', h('span.state', {}, queued ? 'queued' : 'sending…')),
        h('div.body', {}, body)));
    this.pending.set(clientMsgId, el);
    this.list.append(el);
    this.scrollToEnd();
  }

  failPending(clientMsgId, err) {
    const el = this.pending.get(clientMsgId);
    if (!el) return;
    el.classList.add('failed');
    fill(el.querySelector('.state'), `not sent: ${err.message}`);
  }

  /** Read receipts: each reader's avatar sits under the newest message they have read. */
  setReader(user, seq) {
    if (user === this.me) return;
    const prior = this.readers.get(user);
    if (prior && prior.seq >= seq) return;
    this.readers.set(user, { seq, el: prior?.el ?? avatar(user, true) });
    this.placeReaders();
  }

  placeReaders() {
    for (const [user, reader] of this.readers) {
      let i = this.seqs.length - 1;
      while (i >= 0 && (this.seqs[i] > reader.seq || !this.items.get(this.seqs[i]).el.classList.contains('msg'))) i -= 1;
      const host = i >= 0 ? this.items.get(this.seqs[i]).el.querySelector('.readers') : null;
      if (host) {
        reader.el.title = `seen by ${user}`;
        host.append(reader.el);
      }
    }
  }

  /** Newest seq of a message or response shown: what "read up to" means for this user. */
  get newestSeq() { return this.seqs.length ? this.seqs[this.seqs.length - 1] : 0; }

  nearEnd() { return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 80; }

  scrollToEnd() { requestAnimationFrame(() => { this.el.scrollTop = this.el.scrollHeight; }); }
}
