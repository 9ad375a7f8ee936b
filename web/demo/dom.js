// dom: the few DOM helpers the demo needs (no framework, no build step).

/**
 * h('div#id.card', {onclick, title}, child, ...) builds an element. Strings become text nodes, so
 * nothing a user typed is ever parsed as HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const [head, ...classes] = tag.split('.');
  const [name, id] = head.split('#');
  const el = document.createElement(name || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'class') el.className += ` ${value}`;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A stable colour per user id, so the same person looks the same in every window. */
export function userColor(user) {
  let hash = 0;
  for (const ch of String(user)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 45%)`;
}

export function avatar(user, small = false) {
  return h(`span.avatar${small ? '.small' : ''}`, { style: `background:${userColor(user)}`, title: user },
    String(user).slice(0, 1).toUpperCase());
}

export function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A toast for errors and notices; disappears by itself. */
export function toast(message, kind = 'error') {
  let box = $('#toasts');
  if (!box) document.body.append(box = h('div#toasts'));
  const el = h(`div.toast.${kind}`, { role: 'status' }, message);
  box.append(el);
  setTimeout(() => el.remove(), 6000);
}
