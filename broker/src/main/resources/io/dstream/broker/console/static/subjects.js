// Subjects: GET /admin/subjects pages (server-side paging and prefix search), refreshed every few
// seconds so new subjects and messages appear while the operator watches.
import {getJson} from './api.js';
import {bytes, count, el, status, time} from './dom.js';

const PAGE = 50;
const REFRESH_MS = 2000;

export function show(container) {
  const search = el('input', {type: 'search', id: 'subject-prefix', placeholder: 'Prefix, e.g. orders.', spellcheck: 'false'});
  const body = el('tbody', {id: 'subject-rows'});
  const previous = el('button', {type: 'button', class: 'quiet', id: 'subjects-previous'}, '← Previous');
  const next = el('button', {type: 'button', class: 'quiet', id: 'subjects-next'}, 'Next →');
  const where = el('span', {class: 'muted'});
  const problem = el('p', {class: 'status', hidden: true});
  container.append(
    el('h1', {}, 'Subjects'),
    el('div', {class: 'toolbar'}, el('label', {for: 'subject-prefix'}, 'Search'), search, where),
    problem,
    el('table', {class: 'grid'},
      el('thead', {}, el('tr', {},
        el('th', {}, 'Subject'), el('th', {class: 'num'}, 'First seq'), el('th', {class: 'num'}, 'Last seq'),
        el('th', {class: 'num'}, 'Messages'), el('th', {class: 'num'}, 'Bytes'),
        el('th', {class: 'num'}, 'Subscribers'), el('th', {}, 'Last publish'))),
      body),
    el('div', {class: 'pager'}, previous, next));

  // cursors[i] is where page i starts ('' for the first page).
  let cursors = [''];
  let nextCursor = null;
  let timer = null;
  let stopped = false;
  let generation = 0;

  async function load() {
    clearTimeout(timer);
    const mine = ++generation;
    const prefix = search.value.trim();
    const cursor = cursors[cursors.length - 1];
    const query = new URLSearchParams({limit: PAGE, prefix, cursor});
    try {
      const page = await getJson(`/admin/subjects?${query}`);
      if (stopped || mine !== generation) return;
      status(problem, '');
      nextCursor = page.truncated ? page.cursor : null;
      render(page.subjects, prefix);
    } catch (error) {
      if (stopped || mine !== generation) return;
      status(problem, `Cannot list subjects: ${error.message}`, true);
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  function render(subjects, prefix) {
    body.replaceChildren(...subjects.map(s => el('tr', {'data-subject': s.subject},
      el('td', {}, el('a', {href: `#/subject/${encodeURIComponent(s.subject)}`, class: 'subject-link'}, s.subject)),
      el('td', {class: 'num'}, count(s.firstSequence)),
      el('td', {class: 'num'}, count(s.lastSequence)),
      el('td', {class: 'num'}, count(s.messages)),
      el('td', {class: 'num'}, bytes(s.bytes)),
      el('td', {class: 'num'}, count(s.subscribers)),
      el('td', {}, time(s.lastPublishMs)))));
    if (subjects.length === 0) {
      body.append(el('tr', {}, el('td', {colspan: 7, class: 'empty'},
        prefix ? `No subject starts with "${prefix}".` : 'No subjects yet: publish to one and it appears here.')));
    }
    previous.disabled = cursors.length === 1;
    next.disabled = nextCursor === null;
    where.textContent = `page ${cursors.length}, ${subjects.length} shown${nextCursor ? ', more follow' : ''}`;
  }

  let typing = null;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      cursors = [''];
      load();
    }, 250);
  });
  next.addEventListener('click', () => {
    if (nextCursor !== null) {
      cursors.push(nextCursor);
      load();
    }
  });
  previous.addEventListener('click', () => {
    if (cursors.length > 1) {
      cursors.pop();
      load();
    }
  });
  load();
  search.focus();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(typing);
  };
}
