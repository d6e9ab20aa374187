// One subject: its numbers and consumers (GET /admin/subjects/{s}), its state object (edited with
// PUT .../state), a message browser from a sequence or a time with a live tail (GET .../messages),
// and deleting up to a sequence (DELETE .../messages?upTo=N) after a confirmation naming it.
import {getJson, request, subjectPath} from './api.js';
import {bytes, card, clear, confirmAction, count, el, onEnter, status, time} from './dom.js';

const REFRESH_MS = 2000;
const TAIL_MS = 1000;
const PAGE = 100;
const MAX_ROWS = 500;

export function show(container, subject) {
  const base = subjectPath(subject);
  const view = {subject, base, stopped: false, timers: new Set(), info: null};
  const cards = el('div', {class: 'cards', id: 'subject-cards'});
  const consumers = el('tbody', {id: 'consumer-rows'});
  const problem = el('p', {class: 'status', hidden: true});
  container.append(
    el('p', {class: 'crumbs'}, el('a', {href: '#/subjects'}, 'Subjects'), ' / '),
    el('h1', {class: 'subject-name', id: 'subject-name'}, subject),
    problem, cards,
    el('section', {class: 'panel'}, el('h2', {}, 'Subscribers'),
      el('table', {class: 'grid'}, el('thead', {}, el('tr', {},
        el('th', {}, 'Subscriber'), el('th', {class: 'num'}, 'Next seq'), el('th', {class: 'num'}, 'Unacked / window'),
        el('th', {class: 'num'}, 'Lag'), el('th', {class: 'num'}, 'Waiting redelivery'),
        el('th', {class: 'num'}, 'Redelivered'))), consumers)),
    browserPanel(view),
    el('div', {class: 'columns'}, statePanel(view), deletePanel(view)));

  async function refresh() {
    try {
      const info = await getJson(base);
      if (view.stopped) return;
      view.info = info;
      status(problem, '');
      renderNumbers(cards, info);
      renderConsumers(consumers, info.consumers);
      view.onInfo?.(info);
    } catch (error) {
      if (view.stopped) return;
      status(problem, error.status === 404 ? `There is no subject "${subject}".` : `Cannot read the subject: ${error.message}`, true);
    }
    later(view, refresh, REFRESH_MS);
  }
  refresh();
  return () => {
    view.stopped = true;
    for (const timer of view.timers) clearTimeout(timer);
  };
}

function later(view, task, ms) {
  if (view.stopped) return;
  const timer = setTimeout(() => {
    view.timers.delete(timer);
    task();
  }, ms);
  view.timers.add(timer);
}

function renderNumbers(cards, info) {
  const retained = info.firstSequence > info.lastSequence ? 'none retained' : `${count(info.firstSequence)} – ${count(info.lastSequence)}`;
  cards.replaceChildren(
    card('Sequences', retained, `last ${count(info.lastSequence)}`),
    card('Messages', count(info.messages), `${bytes(info.bytes)} in the local store`),
    card('Subscribers', count(info.subscribers), 'connected now'),
    card('Largest lag', info.consumers.length ? count(Math.max(...info.consumers.map(c => c.lag))) : '–',
      'messages not yet sent to the slowest subscriber'),
    card('Last publish', info.lastPublishMs ? time(info.lastPublishMs).slice(11) : 'never',
      info.lastPublishMs ? time(info.lastPublishMs).slice(0, 10) : `producer version ${info.producerVersion}`));
}

function renderConsumers(body, list) {
  if (list.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', {colspan: 6, class: 'empty'}, 'No subscriber is connected.')));
    return;
  }
  body.replaceChildren(...list.map(c => el('tr', {},
    el('td', {}, c.subscriber),
    el('td', {class: 'num'}, count(c.nextSequence)),
    el('td', {class: 'num'}, `${count(c.pending)} / ${count(c.window)}`),
    el('td', {class: 'num'}, count(c.lag)),
    el('td', {class: 'num'}, count(c.queued)),
    el('td', {class: 'num'}, count(c.redelivered)))));
}

// ---- state --------------------------------------------------------------------------------------

function statePanel(view) {
  const editor = el('textarea', {id: 'state-editor', spellcheck: 'false', rows: 9});
  const check = el('p', {class: 'status', id: 'state-check', hidden: true});
  const save = el('button', {type: 'button', id: 'state-save'}, 'Save state');
  const reload = el('button', {type: 'button', class: 'quiet', id: 'state-reload'}, 'Reload');
  const result = el('p', {class: 'status', id: 'state-result', hidden: true});

  function validate() {
    try {
      const parsed = JSON.parse(editor.value);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        status(check, 'The state must be a JSON object ({...}).', true);
        return null;
      }
      status(check, '');
      return parsed;
    } catch (error) {
      status(check, `Not valid JSON: ${error.message}`, true);
      return null;
    }
  }
  function load(info) {
    editor.value = JSON.stringify(info.state, null, 2);
    validate();
  }
  editor.addEventListener('input', () => {
    save.disabled = validate() === null;
  });
  save.addEventListener('click', async () => {
    const state = validate();
    if (state === null) return;
    save.disabled = true;
    try {
      const answer = await (await request('PUT', `${view.base}/state`, {body: JSON.stringify(state)})).json();
      editor.value = JSON.stringify(answer.state, null, 2);
      status(result, `Saved (durable at sequence ${answer.lastSequence}).`);
    } catch (error) {
      status(result, `Not saved: ${error.message}`, true);
    } finally {
      save.disabled = false;
    }
  });
  reload.addEventListener('click', () => {
    if (view.info) load(view.info);
    status(result, '');
  });
  const loadOnce = view.onInfo;
  view.onInfo = info => {
    if (!editor.dataset.loaded) {
      editor.dataset.loaded = 'yes';
      load(info);
    }
    loadOnce?.(info);
  };
  return el('section', {class: 'panel'}, el('h2', {}, 'State object'), editor, check,
    el('div', {class: 'actions left'}, save, reload), result);
}

// ---- delete -------------------------------------------------------------------------------------

function deletePanel(view) {
  const upTo = el('input', {type: 'number', id: 'delete-upto', min: 0, placeholder: 'sequence'});
  const button = el('button', {type: 'button', class: 'danger', id: 'delete-button'}, 'Delete…');
  const result = el('p', {class: 'status', id: 'delete-result', hidden: true});
  onEnter([upTo], () => button.click());
  button.addEventListener('click', async () => {
    const info = view.info;
    const n = Number(upTo.value);
    if (!info || upTo.value === '' || !Number.isInteger(n) || n < 0) {
      status(result, 'Give the last sequence to delete (a whole number).', true);
      return;
    }
    const last = Math.min(n, info.lastSequence);
    const doomed = Math.max(0, last - info.firstSequence + 1);
    if (doomed === 0) {
      status(result, `Nothing to delete: the first retained sequence is ${info.firstSequence}.`, true);
      return;
    }
    const confirmed = await confirmAction(`Delete from ${view.subject}?`,
      `This deletes ${count(doomed)} message${doomed === 1 ? '' : 's'}, sequences ${count(info.firstSequence)} to `
      + `${count(last)} of "${view.subject}". The next publish still gets sequence ${count(info.lastSequence + 1)}. `
      + 'This cannot be undone.');
    if (!confirmed) return;
    try {
      const answer = await (await request('DELETE', `${view.base}/messages?upTo=${last}`)).json();
      status(result, `Deleted up to ${answer.deletedUpTo}; ${count(answer.messages)} messages retained.`);
      view.onDeleted?.(answer);
    } catch (error) {
      status(result, `Not deleted: ${error.message}`, true);
    }
  });
  return el('section', {class: 'panel'}, el('h2', {}, 'Delete messages'),
    el('p', {class: 'muted'}, 'Deletes every retained message up to and including a sequence. Sequences are never reused.'),
    el('div', {class: 'toolbar'}, el('label', {for: 'delete-upto'}, 'Up to'), upTo, button), result);
}

// ---- message browser ----------------------------------------------------------------------------

function browserPanel(view) {
  const from = el('input', {type: 'number', id: 'browse-from', min: 1, placeholder: 'first'});
  const since = el('input', {type: 'datetime-local', id: 'browse-since', step: 1});
  const load = el('button', {type: 'button', id: 'browse-load'}, 'Browse');
  const more = el('button', {type: 'button', class: 'quiet', id: 'browse-more', disabled: true}, 'Load more');
  const tail = el('input', {type: 'checkbox', id: 'live-tail'});
  const rows = el('tbody', {id: 'message-rows'});
  const scroller = el('div', {class: 'scroller', id: 'message-scroller'});
  const result = el('p', {class: 'status', id: 'browse-result', hidden: true});
  let next = null;
  let tailing = false;
  let following = false;

  function row(m) {
    const message = m.message ?? {};
    return el('tr', {'data-sequence': m.sequence},
      el('td', {class: 'num'}, count(m.sequence)),
      el('td', {class: 'nowrap'}, time(m.ts)),
      el('td', {}, message.clientId ?? '–'),
      el('td', {}, message.ip ?? '–'),
      el('td', {}, el('pre', {class: 'payload'}, JSON.stringify(message.data))));
  }

  async function fetchPage(query, replace) {
    const page = await getJson(`${view.base}/messages?${new URLSearchParams({limit: PAGE, ...query})}`);
    if (replace) clear(rows);
    rows.append(...page.messages.map(row));
    while (rows.children.length > MAX_ROWS) rows.firstElementChild.remove();
    next = page.next;
    more.disabled = page.next > page.lastSequence;
    if (rows.children.length === 0) {
      rows.append(el('tr', {class: 'placeholder'}, el('td', {colspan: 5, class: 'empty'}, 'No messages from there (yet).')));
    } else {
      rows.querySelector('tr.placeholder')?.remove();
    }
    return page;
  }

  async function browse() {
    const query = {};
    if (since.value) query.since = new Date(since.value).getTime();
    else if (from.value) query.from = from.value;
    try {
      const page = await fetchPage(query, true);
      status(result, `Showing from sequence ${page.messages[0]?.sequence ?? page.next}; last is ${page.lastSequence}.`);
    } catch (error) {
      status(result, `Cannot read messages: ${error.message}`, true);
    }
  }

  async function follow() {
    if (!tailing || view.stopped) {
      following = false;
      return;
    }
    following = true;
    try {
      const page = await fetchPage({from: next}, false);
      if (page.messages.length > 0) {
        scroller.scrollTop = scroller.scrollHeight;
        status(result, `Following: last is ${page.lastSequence}.`);
      }
    } catch (error) {
      status(result, `Live tail paused: ${error.message}`, true);
    }
    later(view, follow, TAIL_MS);
  }

  load.addEventListener('click', browse);
  onEnter([from, since], browse);
  // One starting point at a time: typing one clears the other.
  from.addEventListener('input', () => { since.value = ''; });
  since.addEventListener('input', () => { from.value = ''; });
  more.addEventListener('click', () => fetchPage({from: next}, false).catch(e => status(result, e.message, true)));
  tail.addEventListener('change', async () => {
    tailing = tail.checked;
    if (tailing) {
      if (next === null) await browse();
      // Unticked and ticked again within a second: the loop still running carries on.
      if (!following) follow();
    }
  });
  view.onDeleted = () => browse();
  browse();
  const panel = el('section', {class: 'panel'}, el('h2', {}, 'Messages'),
    el('div', {class: 'toolbar'},
      el('label', {for: 'browse-from'}, 'From sequence'), from,
      el('label', {for: 'browse-since'}, 'or from time'), since,
      load, el('label', {class: 'check'}, tail, 'Live tail')),
    result,
    scroller,
    el('div', {class: 'pager'}, more));
  scroller.append(el('table', {class: 'grid messages'}, el('thead', {}, el('tr', {},
    el('th', {class: 'num'}, 'Seq'), el('th', {}, 'Published'), el('th', {}, 'Client'), el('th', {}, 'IP'),
    el('th', {}, 'Data'))), rows));
  return panel;
}
