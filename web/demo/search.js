// search: the demo's search box. client.search() covers every room the user may read; the results
// replace the main panel until a room is picked again.
import { h, fill, toast } from './dom.js';

const PAGE = 20;
const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const decode = (s) => s.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m]);

/**
 * The server's snippet is escaped HTML with <mark> around matches (docs/protocol.md "Search"). It is
 * rebuilt as DOM nodes rather than assigned to innerHTML, so only <mark> ever becomes an element,
 * whatever the snippet holds.
 */
export function snippetNodes(snippet) {
  const parts = String(snippet).split(/<(\/?)mark>/); // text, tag ('' opens, '/' closes), text, ...
  const nodes = [];
  let marked = false;
  parts.forEach((part, i) => {
    if (i % 2 === 1) marked = part === '';
    else if (part) nodes.push(marked ? h('mark', {}, decode(part)) : decode(part));
  });
  return nodes;
}

export class SearchBox {
  /** form: the search form; show(el) puts the results in the main panel; open(room) selects a room;
   *  title(room) names a room (its title when known). */
  constructor(client, form, { show, open, title = (room) => room }) {
    this.client = client;
    this.show = show;
    this.open = open;
    this.title = title;
    form.onsubmit = (e) => {
      e.preventDefault();
      const query = form.query.value.trim();
      if (query) this.run(query);
    };
  }

  async run(query) {
    const list = h('ol.results');
    this.show(h('div.search', {}, h('h2', {}, `Search: ${query}`), list));
    await this.page(list, query);
    if (!list.children.length) fill(list, h('li.none', {}, 'Nothing found in the rooms you can read.'));
  }

  /** Appends one page of results (older than `before`) and a "More" button when there may be more. */
  async page(list, query, before) {
    let results;
    try {
      results = await this.client.search(query, { before, limit: PAGE });
    } catch (err) {
      toast(`search: ${err.message}`);
      return;
    }
    for (const r of results) {
      list.append(h('li.result', { dataset: { room: r.room, seq: String(r.seq) }, onclick: () => this.open(r.room) },
        h('div.where', {}, h('b', {}, this.title(r.room)), ` · ${r.actor ?? ''} · ${new Date(r.at).toLocaleString()}`,
          r.event === 'transcript' ? ' · transcript' : ''),
        h('div.snippet', {}, snippetNodes(r.snippet))));
    }
    if (results.length === PAGE) {
      const more = h('button.more', { type: 'button', onclick: () => { more.remove(); this.page(list, query, results.at(-1).at); } }, 'More');
      list.after(more);
    }
  }
}
