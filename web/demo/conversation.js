// conversation: the state machine of a conversation room, live, with a button per allowed move.
import { h, fill, toast } from './dom.js';

export const STATES = ['IDLE', 'LISTENING', 'PROCESSING', 'SPEAKING', 'WAITING_FOR_USER', 'ERROR', 'ENDED'];

// A copy of the moves seeded in rt.transitions (docs/sql-api.md, "The state machine"), used only to decide which
// buttons to show. The database decides: a move it refuses comes back as INVALID_TRANSITION.
const CHAIN = ['IDLE', 'LISTENING', 'PROCESSING', 'SPEAKING', 'WAITING_FOR_USER'];
export function allowedMoves(state) {
  if (!state || state === 'ENDED') return [];
  const moves = new Set();
  const i = CHAIN.indexOf(state);
  if (i > 0) moves.add(CHAIN[i - 1]);
  if (i >= 0 && i < CHAIN.length - 1) moves.add(CHAIN[i + 1]);
  if (state === 'WAITING_FOR_USER') moves.add('LISTENING');
  if (state === 'ERROR') moves.add('IDLE');
  else moves.add('ERROR');
  moves.add('ENDED');
  return [...moves];
}

export class StatePanel {
  constructor(room, info) {
    this.room = room;
    this.state = null;
    this.version = null;
    this.chips = new Map(STATES.map((s) => [s, h('li.chip', {}, s.replace(/_/g, ' ').toLowerCase())]));
    this.versionEl = h('span.version');
    this.buttons = h('div.moves');
    this.el = h('div.panel.states', {},
      h('div.panel-head', {}, h('h3', {}, 'Conversation state'), this.versionEl),
      h('ol.chips', {}, [...this.chips.values()]),
      this.buttons);
    room.on('join', (info) => this.show(info.state, info.version, info.role));
    room.on('event', (ev) => {
      if (ev.event === 'state' || (ev.event === 'room_ended' && ev.data?.to)) this.show(ev.data.to, ev.data.version);
    });
    this.show(info.state, info.version, info.role);
  }

  show(state, version, role = this.role) {
    this.state = state;
    this.version = version;
    this.role = role;
    for (const [name, chip] of this.chips) chip.classList.toggle('current', name === state);
    fill(this.versionEl, version === null || version === undefined ? '' : `version ${version}`);
    const canMove = role && role !== 'viewer';
    fill(this.buttons, canMove ? allowedMoves(state)
      // Members may not end the room (only the owner and services): no button they cannot use.
      .filter((to) => to !== 'ENDED' || role === 'owner')
      .map((to) => h(`button.move${to === 'ERROR' || to === 'ENDED' ? '.danger' : ''}`,
        { onclick: () => this.move(to) }, `→ ${to.replace(/_/g, ' ').toLowerCase()}`)) : []);
  }

  async move(to) {
    try {
      // `expect`: if someone (or the assistant) moved first, this is CONFLICT, not a surprise.
      await this.room.state(to, this.version);
    } catch (err) {
      toast(err.code === 'CONFLICT' ? 'Someone else changed the state first; try again.' : `state: ${err.message}`);
    }
  }
}
