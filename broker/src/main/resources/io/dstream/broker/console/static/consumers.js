// JetStream consumers: GET /admin/consumers, refreshed every few seconds, with what each has left to
// do (pending, ack pending, ack floor, redelivered, waiting pull requests, last activity) and a pause
// or resume button per consumer (POST /admin/consumers/{stream}/{name}/pause or /resume).
import {getJson, request} from './api.js';
import {count, el, status, time} from './dom.js';

const REFRESH_MS = 2000;

export function show(container) {
  const minutes = el('input', {type: 'number', id: 'pause-minutes', min: 1, value: 10});
  const body = el('tbody', {id: 'jetstream-consumer-rows'});
  const problem = el('p', {class: 'status', id: 'consumers-result', hidden: true});
  container.append(
    el('h1', {}, 'Consumers'),
    el('p', {class: 'muted'}, 'JetStream consumers of the declared streams. Pending: messages never delivered; '
      + 'ack pending: delivered and not acked; ack floor: acked up to there; waiting: pull requests.'),
    el('div', {class: 'toolbar'}, el('label', {for: 'pause-minutes'}, 'Pause for'), minutes,
      el('span', {class: 'muted'}, 'minutes')),
    problem,
    el('table', {class: 'grid'},
      el('thead', {}, el('tr', {},
        el('th', {}, 'Stream'), el('th', {}, 'Consumer'), el('th', {}, 'Subject'), el('th', {}, 'Type'),
        el('th', {class: 'num'}, 'Pending'), el('th', {class: 'num'}, 'Ack pending'),
        el('th', {class: 'num'}, 'Ack floor'), el('th', {class: 'num'}, 'Redelivered'),
        el('th', {class: 'num'}, 'Waiting'), el('th', {}, 'Last activity'), el('th', {}, 'Paused'),
        el('th', {}, ''))),
      body));

  let timer = null;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    try {
      const answer = await getJson('/admin/consumers');
      if (stopped) return;
      render(answer.consumers);
    } catch (error) {
      if (stopped) return;
      status(problem, `Cannot list consumers: ${error.message}`, true);
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  async function act(c, action) {
    const path = `/admin/consumers/${encodeURIComponent(c.stream)}/${encodeURIComponent(c.name)}/${action}`;
    const forMs = Math.round(Number(minutes.value) * 60000);
    if (action === 'pause' && !(forMs > 0)) {
      status(problem, 'Give the pause in minutes (more than 0).', true);
      return;
    }
    try {
      const answer = await (await request('POST', path,
        action === 'pause' ? {body: JSON.stringify({forMs})} : {})).json();
      status(problem, answer.paused ? `${c.stream} / ${c.name} paused until ${time(Date.parse(answer.pauseUntil))}.`
        : `${c.stream} / ${c.name} resumed.`);
      load();
    } catch (error) {
      status(problem, `Not done: ${error.message}`, true);
    }
  }

  function render(consumers) {
    if (consumers.length === 0) {
      body.replaceChildren(el('tr', {}, el('td', {colspan: 12, class: 'empty'},
        'No consumer. Declare a stream and add one with the JetStream API or dstream consumer add.')));
      return;
    }
    body.replaceChildren(...consumers.map(c => el('tr', {'data-consumer': `${c.stream}/${c.name}`},
      el('td', {}, c.stream),
      el('td', {}, c.name),
      el('td', {}, el('a', {href: `#/subject/${encodeURIComponent(c.subject)}`, class: 'subject-link'}, c.subject)),
      el('td', {}, c.type + (c.durable ? '' : ' (ephemeral)')),
      el('td', {class: 'num', 'data-field': 'pending'}, count(c.pending)),
      el('td', {class: 'num', 'data-field': 'ackPending'}, count(c.ackPending)),
      el('td', {class: 'num', 'data-field': 'ackFloor'}, count(c.ackFloor)),
      el('td', {class: 'num', 'data-field': 'redelivered'}, count(c.redelivered)),
      el('td', {class: 'num', 'data-field': 'waiting'}, count(c.waiting)),
      // Times of day keep the row narrow; the full date and time are in the tooltip.
      el('td', {class: 'nowrap', 'data-field': 'lastActivity', title: time(c.lastActivityMs)},
        c.lastActivityMs ? time(c.lastActivityMs).slice(11, 19) : 'never'),
      el('td', {class: 'nowrap', 'data-field': 'paused', title: c.paused ? time(Date.parse(c.pauseUntil)) : null},
        c.paused ? `until ${time(Date.parse(c.pauseUntil)).slice(11, 19)}` : 'no'),
      el('td', {}, c.paused
        ? el('button', {type: 'button', class: 'quiet small', onclick: () => act(c, 'resume')}, 'Resume')
        : el('button', {type: 'button', class: 'quiet small', onclick: () => act(c, 'pause')}, 'Pause')))));
  }

  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
