// meeting: a meeting room as a transcription pipeline shows it: status stages, transcript segments
// streaming in (interim `transcript_interim` signals, then the final `transcript` event) and the
// `summary`. Shapes are those the example pipeline publishes (examples/meeting-sim.c).
import { h, fill, toast, userColor } from './dom.js';
import { roomHeader } from './chat.js';

const STAGES = ['joining', 'recording', 'transcribing', 'summarizing', 'done'];

export class MeetingView {
  /** `info`: the first join reply. */
  constructor(client, room, info) {
    this.client = client;
    this.room = room;
    this.run = null;            // the pipeline run shown: each start begins a new one
    this.segments = new Map();  // segment id -> { el, final }
    this.header = roomHeader(room);
    this.stageEls = new Map(STAGES.map((s) => [s, h('li.stage', {}, s)]));
    this.startButton = h('button', { onclick: () => this.start() }, 'Start meeting');
    this.statusText = h('span.status-text', {}, 'No meeting yet.');
    this.transcript = h('ol.transcript', { 'aria-live': 'polite' });
    this.summary = h('div.summary', { hidden: true });
    this.el = h('section.room.meeting', {}, this.header.el,
      h('div.panel', {}, h('div.panel-head', {}, h('h3', {}, 'Pipeline'), this.startButton),
        h('ol.stages', {}, [...this.stageEls.values()]), this.statusText),
      h('div.scroller', {}, h('h3', {}, 'Transcript'), this.transcript, this.summary));

    room.on('join', (info) => this.onJoin(info));
    room.on('event', (ev) => this.apply(ev));
    room.on('signal', (sig) => { if (sig.event === 'transcript_interim') this.interim(sig.data ?? {}); });
    room.on('presence', (users) => { this.header.setPresence(users); this.showWatching(); });
    room.on('occupancy', () => this.showWatching());
    this.onJoin(info);
    this.header.setPresence([...room.presence]);
    this.showWatching();
  }

  /** A big meeting (above its presence threshold) shows how many watch; a small one its avatars only. */
  showWatching() {
    this.header.setWatching(this.room.presenceComplete ? null : this.room.occupancy);
  }

  async onJoin(info) {
    this.header.setKind(info.kind);
    this.startButton.disabled = info.role === 'viewer' || info.ended;
    if (info.resumed) return;
    try {
      // The last runs are in the newest events; older history is not needed to show them.
      for (const ev of await this.room.history({ limit: 300, before: (Number(info.seq) || 0) + 1 })) this.apply(ev);
    } catch (err) {
      toast(`history: ${err.message}`);
    }
  }

  /** Asks the pipeline (a service member of the room) to run: a `speech_event` signal. */
  async start() {
    try {
      await this.room.signal('speech_event', { action: 'start' });
      fill(this.statusText, 'Starting… (the example pipeline must be running: see docs/client.md)');
    } catch (err) {
      toast(`start: ${err.message}`);
    }
  }

  apply(ev) {
    const d = ev.data ?? {};
    if (d.run !== undefined && d.run !== this.run && ['status', 'transcript', 'summary'].includes(ev.event)) this.reset(d.run);
    if (ev.event === 'status') this.stage(d);
    else if (ev.event === 'transcript') this.segment(d, true);
    else if (ev.event === 'summary') this.showSummary(d);
  }

  interim(d) {
    if (d.run !== undefined && d.run !== this.run) this.reset(d.run);
    this.segment(d, false);
  }

  reset(run) {
    this.run = run;
    this.segments.clear();
    fill(this.transcript);
    this.summary.hidden = true;
    for (const el of this.stageEls.values()) el.className = 'stage';
  }

  stage({ stage, label }) {
    const at = STAGES.indexOf(stage);
    STAGES.forEach((s, i) => {
      const el = this.stageEls.get(s);
      el.classList.toggle('done', i < at || stage === 'done');
      el.classList.toggle('current', i === at && stage !== 'done');
    });
    fill(this.statusText, label ?? stage ?? '');
  }

  /** A final segment replaces its interim text and is never downgraded by a late interim one. */
  segment({ segment, speaker = '?', text = '' }, final) {
    if (segment === undefined) return;
    let seg = this.segments.get(segment);
    if (seg?.final && !final) return;
    if (!seg) {
      const el = h('li.segment', {}, h('b', { style: `color:${userColor(speaker)}` }, speaker), h('span.text'));
      seg = { el, final: false };
      this.segments.set(segment, seg);
      const after = [...this.segments.keys()].filter((k) => k > segment).sort((a, b) => a - b)[0];
      this.transcript.insertBefore(el, after === undefined ? null : this.segments.get(after).el);
    }
    seg.final = final;
    seg.el.classList.toggle('interim', !final);
    fill(seg.el.querySelector('.text'), text);
  }

  showSummary({ text = '', action_items: items = [] }) {
    this.summary.hidden = false;
    fill(this.summary, h('h3', {}, 'Summary'), h('p', {}, text),
      Array.isArray(items) && items.length ? h('ul', {}, items.map((i) => h('li', {}, String(i)))) : null);
  }

  setTitle(text) { this.header.setTitle(text); }

  activate() {}

  deactivate() {}
}
