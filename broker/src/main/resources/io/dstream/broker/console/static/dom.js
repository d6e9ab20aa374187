// Building DOM nodes. Text always goes in as text nodes (textContent), never parsed as markup:
// payloads, subject names and file names come from clients and must not run.

/** el('td', {class: 'num'}, 'text', childNode, ...): attributes as given, strings as text nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

const numberFormat = new Intl.NumberFormat('en-US');

export function count(n) {
  return n === undefined || n === null ? '–' : numberFormat.format(n);
}

export function bytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function time(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  const pad = (v, w = 2) => String(v).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

/** A number card: a label over a big value, with an optional small note. */
export function card(label, value, note, id) {
  return el('div', {class: 'card', id},
    el('div', {class: 'label'}, label),
    el('div', {class: 'value'}, value),
    note ? el('div', {class: 'note'}, note) : null);
}

/** A status line under a form: green for done, red for a failure. */
export function status(node, text, isError) {
  node.textContent = text;
  node.className = isError ? 'status error' : 'status ok';
  node.hidden = !text;
}

/** Opens the confirmation dialog naming what will happen; resolves true if confirmed. */
export function confirmAction(title, text, okLabel = 'Delete') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.returnValue = '';
    dialog.showModal();
  });
}

/** Runs `action` when Enter is pressed in any of `inputs` (they sit outside any form). */
export function onEnter(inputs, action) {
  for (const input of inputs) {
    input.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        action();
      }
    });
  }
}
