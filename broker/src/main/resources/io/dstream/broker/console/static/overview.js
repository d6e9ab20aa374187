// Overview: the broker's numbers from GET /admin/overview, refreshed every sample interval, with
// uPlot charts of the samples the broker kept (the last five minutes).
import uPlot from '/console/vendor/uplot/uPlot.esm.js';
import {getJson} from './api.js';
import {bytes, card, count, duration, el, status} from './dom.js';

const CHARTS = [
  {title: 'Messages per second', series: [['publishRate', 'published', '#2563eb'], ['deliveryRate', 'delivered', '#16a34a']]},
  {title: 'Publish-ack latency (ms)', series: [['publishP50Ms', 'p50', '#7c3aed'], ['publishP99Ms', 'p99', '#db2777']]},
  {title: 'Connections', series: [['connections', 'connections', '#0891b2'], ['websockets', 'websockets', '#ca8a04']]},
];

export function show(container) {
  const cards = el('div', {class: 'cards', id: 'overview-cards'});
  const charts = el('div', {class: 'charts'});
  const problem = el('p', {class: 'status', hidden: true});
  container.append(el('h1', {}, 'Overview'), problem, cards, charts);
  const plots = CHARTS.map(chart => {
    const box = el('div', {class: 'chart'}, el('h2', {}, chart.title), key(chart));
    charts.append(box);
    return {chart, plot: null, box};
  });
  let timer = null;
  let stopped = false;

  async function refresh() {
    try {
      const overview = await getJson('/admin/overview');
      if (stopped) return;
      status(problem, '');
      renderCards(cards, overview);
      for (const entry of plots) renderChart(entry, overview.samples);
      timer = setTimeout(refresh, overview.intervalMs);
    } catch (error) {
      if (stopped) return;
      status(problem, `Cannot read the overview: ${error.message}`, true);
      timer = setTimeout(refresh, 5000);
    }
  }
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const entry of plots) entry.plot?.destroy();
  };
}

function renderCards(cards, overview) {
  const now = overview.now;
  const last = overview.samples[overview.samples.length - 1] ?? {};
  // Bucket bounds such as 6.99 ms: two significant digits say all the histogram knows.
  const ms = v => (v === undefined || v === null ? '–' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
  const rate = v => (v === undefined ? '–' : `${count(Math.round(v))}/s`);
  cards.replaceChildren(
    card('Uptime', duration(overview.uptimeMs), `version ${overview.version}`),
    card('Connections', count(now.connections), `${count(now.websockets)} WebSockets`),
    card('Subjects', count(now.subjects), `${count(now.activeSubjects)} active in memory`, 'card-subjects'),
    card('Stored messages', count(now.storedMessages), `store file ${bytes(now.storeBytes)}`),
    card('Publish rate', rate(last.publishRate), `${count(now.published)} since start`),
    card('Delivery rate', rate(last.deliveryRate), `${count(now.delivered)} since start`),
    card('Unacked pushes', count(now.inFlight), 'over all subscribers'),
    card('Publish-ack p50 / p99', `${ms(last.publishP50Ms)} / ${ms(last.publishP99Ms)}`, 'last interval'),
    card('Checkpoint lag', `${now.checkpointLagSeconds} s`, `${count(now.subjectsBehind)} subjects behind`),
    card('S3 errors', count(now.s3Errors), 'since start'));
}

/** The chart's series names in their colours (uPlot's own legend shows values only while hovering). */
function key(chart) {
  return el('div', {class: 'key'}, chart.series.map(([, label, color]) => {
    const swatch = el('span', {class: 'swatch'});
    // A CSSOM property, which the policy allows (a style attribute it would refuse).
    swatch.style.backgroundColor = color;
    return el('span', {}, swatch, label);
  }));
}

const clock = new Intl.DateTimeFormat('en-GB', {hour: '2-digit', minute: '2-digit', second: '2-digit'});

function renderChart(entry, samples) {
  const data = [samples.map(s => s.t / 1000)];
  for (const [field] of entry.chart.series) data.push(samples.map(s => s[field] ?? null));
  if (entry.plot) {
    entry.plot.setData(data);
    return;
  }
  const options = {
    width: Math.max(300, entry.box.clientWidth - 24),
    height: 250,
    legend: {show: false},
    cursor: {drag: {x: false, y: false}},
    scales: {x: {time: true}},
    axes: [
      {stroke: '#64748b', grid: {stroke: '#eef2f7'}, values: (u, ticks) => ticks.map(t => clock.format(t * 1000))},
      {stroke: '#64748b', grid: {stroke: '#eef2f7'}, size: 50},
    ],
    series: [{}, ...entry.chart.series.map(([, label, color]) => ({label, stroke: color, width: 2, spanGaps: false}))],
  };
  entry.plot = new uPlot(options, data, entry.box);
}
