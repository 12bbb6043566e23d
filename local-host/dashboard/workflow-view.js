// The workflow view, #/workflows/<key>?days=&status=&offset=: trends, tests, schedule, history.

import { getJson } from './api.js';
import { h, rebuild, timeAgo } from './dom.js';
import { formatDuration, percent, shortId } from './format.js';
import { runLink, workflowHref } from './runs.js';
import { pill, runDuration, runStatus, testsBadge, triggerText } from './status.js';
import { nextRun, nextRunLine, runButton, updateRunButton } from './workflows.js';

const STATUSES = ['queued', 'running', 'completed', 'cancelled', 'interrupted'];
const PERIODS = [7, 30, 90, 365];

/** The view's address. @param {Ui.Query} query @param {Partial<Ui.Query>} [change] */
function workflowLink(query, change = {}) {
  const { key, ...rest } = { ...query, ...change };
  const defaults = { days: 30, status: '', offset: 0, limit: 20 };
  const params = Object.entries(rest).filter(
    ([name, value]) => value !== defaults[/** @type {keyof typeof defaults} */ (name)],
  );
  const search = new URLSearchParams(params.map(([n, v]) => [n, String(v)])).toString();
  return `${workflowHref(key)}${search ? `?${search}` : ''}`;
}

/**
 * Keeps only values the API takes.
 * @param {string} key
 * @param {URLSearchParams} params
 * @returns {Ui.Query}
 */
export function readQuery(key, params) {
  /** @param {string} name @param {number} min @param {number} max @param {number} fallback */
  const int = (name, min, max, fallback) => {
    const n = Number(params.get(name) ?? fallback);
    return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
  };
  const status = params.get('status') ?? '';
  return {
    key,
    days: int('days', 1, 365, 30),
    status: STATUSES.includes(status) ? status : '',
    offset: int('offset', 0, 1e9, 0),
    limit: int('limit', 1, 100, 20),
  };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** @param {string} tag @param {Record<string, string | number>} attrs @param {...Node} children */
function svg(tag, attrs, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** "12 May" for a UTC date. @param {string} date */
const dayName = (date) =>
  new Date(`${date}T00:00:00Z`).toLocaleDateString([], {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });

/**
 * A bar per day, a tooltip each, its parts ([height 0..1, class]) stacked from the bottom.
 * @param {string} caption
 * @param {string} label what it shows, for screen readers
 * @param {Api.DayStats[]} days
 * @param {(day: Api.DayStats) => [number, string][]} parts
 * @param {(day: Api.DayStats) => string} title
 */
function chart(caption, label, days, parts, title) {
  const bars = days.map((day, i) => {
    let y = 100;
    return svg(
      'g',
      {},
      svg('title', {}, document.createTextNode(title(day))),
      svg('rect', { x: i * 10, y: 0, width: 10, height: 100, class: 'bar-hit' }),
      ...parts(day).map(([height, cls]) => {
        y -= height * 100;
        return svg('rect', { x: i * 10 + 1.5, y, width: 7, height: height * 100, class: cls });
      }),
    );
  });
  const first = days[0];
  const last = days[days.length - 1];
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, caption),
    svg(
      'svg',
      {
        viewBox: `0 0 ${days.length * 10} 100`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': label,
      },
      ...bars,
    ),
    h(
      'p',
      { class: 'chart-axis' },
      h('span', {}, first ? dayName(first.date) : ''),
      h('span', {}, last ? dayName(last.date) : ''),
    ),
  );
}

/** @param {Api.WorkflowStats} stats */
function charts(stats) {
  const days = stats.by_day;
  const slowest = Math.max(0, ...days.map((d) => d.p50_ms ?? 0));
  return h(
    'div',
    { class: 'charts' },
    chart(
      'Pass rate per day',
      `Pass rate per day: ${percent(stats.success_rate)} over the period`,
      days,
      (d) => {
        const done = d.succeeded + d.failed;
        if (done === 0) return [[d.runs ? 1 : 0.02, 'bar-none']];
        return [
          [d.succeeded / done, 'bar-ok'],
          [d.failed / done, 'bar-fail'],
        ];
      },
      (d) => {
        const done = d.succeeded + d.failed;
        return `${d.date}: ${done ? `${d.succeeded} of ${done} passed (${percent(d.succeeded / done)})` : 'no completed runs'}`;
      },
    ),
    chart(
      `Median duration per day (up to ${formatDuration(slowest)})`,
      `Median duration per day, up to ${formatDuration(slowest)}`,
      days,
      (d) => [
        [d.p50_ms && slowest ? d.p50_ms / slowest : 0.02, d.p50_ms ? 'bar-info' : 'bar-none'],
      ],
      (d) =>
        `${d.date}: ${d.p50_ms === null ? 'no completed runs' : `median ${formatDuration(d.p50_ms)}`}`,
    ),
  );
}

/** @param {readonly Api.TestInsight[]} tests */
function testTable(tests) {
  if (tests.length === 0)
    return h('p', { class: 'muted' }, 'No test results yet: they come from test and verify steps.');
  const head = ['Test', 'Flaky', 'Failure rate', 'Failed', 'Passed', 'Flips', 'Last failed'];
  /** @param {Api.TestInsight} t */
  const cells = (t) => [
    t.flaky ? h('span', { class: 'pill tone-warn' }, '⚑ flaky') : '',
    percent(t.failure_rate),
    String(t.failures),
    String(t.passes),
    String(t.flips),
    t.last_failed_run_id
      ? h('a', { href: runLink(t.last_failed_run_id) }, timeAgo(t.last_failed_at))
      : '—',
  ];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'test-table' },
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        ...tests.map((t) =>
          h(
            'tr',
            { 'data-test': t.test, class: t.flaky ? 'is-flaky' : null },
            h('th', { scope: 'row' }, h('code', {}, t.test)),
            ...cells(t).map((cell) => h('td', {}, cell)),
          ),
        ),
      ),
    ),
  );
}

/** @param {Api.HistoryRecord} run */
function historyRow(run) {
  return h(
    'li',
    { class: 'run', 'data-key': run.run_id, 'data-status': runStatus(run).label },
    h(
      'div',
      { class: 'run-head' },
      pill(runStatus(run)),
      h('a', { class: 'run-id', href: runLink(run.run_id) }, `run ${shortId(run.run_id)}`),
      testsBadge(run.tests),
      h(
        'span',
        { class: 'run-meta dot-list' },
        timeAgo(run.started_at ?? run.queued_at),
        h('span', {}, runDuration(run)),
        h('span', { class: 'run-trigger' }, triggerText(run)),
      ),
    ),
  );
}

/**
 * @param {string} id
 * @param {[string, string][]} options each value and its label
 * @param {string} selected
 * @param {(value: string) => string} linkTo where a choice moves the view
 */
function choice(id, options, selected, linkTo) {
  const select = h(
    'select',
    { id, 'data-key': id },
    ...options.map(([value, label]) => h('option', { value, selected: value === selected }, label)),
  );
  select.addEventListener('change', () => {
    location.hash = linkTo(select.value);
  });
  return select;
}

/**
 * @param {Ui.Query} query
 * @param {Api.HistoryRecord[]} runs one more than a page, to know whether there is another
 */
function history(query, runs) {
  const page = runs.slice(0, query.limit);
  const select = choice(
    'history-status',
    ['', ...STATUSES].map((s) => [s, s || 'all statuses']),
    query.status,
    (status) => workflowLink(query, { status, offset: 0 }),
  );
  const from = query.offset + 1;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'history-title' },
    h(
      'div',
      { class: 'panel-head' },
      h('h3', { class: 'panel-title', id: 'history-title' }, 'History'),
      h('label', { class: 'count' }, 'Show ', select),
    ),
    page.length
      ? h('ul', { class: 'run-list' }, ...page.map(historyRow))
      : h('p', { class: 'placeholder' }, `No ${query.status || ''} runs here.`.replace('  ', ' ')),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'History pages' },
      query.offset > 0
        ? h(
            'a',
            { href: workflowLink(query, { offset: Math.max(0, query.offset - query.limit) }) },
            '‹ Newer',
          )
        : '',
      h('span', { class: 'count' }, page.length ? `runs ${from}–${from + page.length - 1}` : ''),
      runs.length > query.limit
        ? h('a', { href: workflowLink(query, { offset: query.offset + query.limit }) }, 'Older ›')
        : '',
    ),
  );
}

let shown = '';

/**
 * A refresh that changes nothing leaves the page alone.
 * @param {HTMLElement} root
 * @param {Ui.Query} query
 * @param {Promise<Ui.PageState>} known
 */
export async function showWorkflow(root, query, known) {
  const base = `api/workflows/${encodeURIComponent(query.key)}`;
  const status = query.status ? `&status=${query.status}` : '';
  /** @type {[Api.WorkflowStats, Api.TestInsight[], Api.HistoryRecord[], Ui.PageState]} */
  const [stats, tests, runs, page] = await Promise.all([
    getJson(`${base}/stats?days=${query.days}`),
    getJson(`${base}/tests?limit=100`),
    getJson(`${base}/history?limit=${query.limit + 1}&offset=${query.offset}${status}`),
    known,
  ]);
  const workflow = page.workflowsByKey.get(query.key);
  const name = workflow?.name ?? query.key;
  const next = nextRun(page.schedules, query.key);
  const running = page.running.has(query.key);
  const message = page.messages.get(query.key);
  const signature = JSON.stringify([query, stats, tests, runs, name, next, running, message]);
  if (signature === shown && root.dataset.shows === query.key) return;
  shown = signature;
  root.dataset.shows = query.key;
  document.title = `${name} · Aegis`;

  const period = choice(
    'period',
    PERIODS.map((d) => [String(d), `last ${d} days`]),
    String(query.days),
    (days) => workflowLink(query, { days: Number(days) }),
  );
  const button = runButton(query.key);
  button.dataset.key = 'run';
  updateRunButton(button, name, running);
  const flaky = tests.filter((t) => t.flaky).length;
  rebuild(root, [
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'Overview'),
      h('span', { 'aria-current': 'page' }, name),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'view-title' },
      h(
        'div',
        { class: 'workflow-head' },
        h('h2', { id: 'view-title' }, `${name} `, h('code', { class: 'muted' }, query.key)),
        button,
      ),
      h(
        'p',
        { class: 'workflow-message', role: 'status', 'data-tone': message?.tone },
        message?.text,
      ),
      next ? nextRunLine(next) : h('p', { class: 'workflow-next muted' }, 'Not scheduled'),
      h(
        'dl',
        { class: 'facts stats' },
        h('div', {}, h('dt', {}, 'Period'), h('dd', {}, period)),
        ...[
          ['Runs', String(stats.runs)],
          ['Success rate', percent(stats.success_rate)],
          ['Passed', `${stats.succeeded} of ${stats.succeeded + stats.failed}`],
          ['Cancelled', String(stats.cancelled)],
          ['Median', formatDuration(stats.duration_ms.p50)],
          ['p95', formatDuration(stats.duration_ms.p95)],
          ['Tests failed', percent(stats.tests.failed_rate)],
        ].map(([term, value]) =>
          h('div', { 'data-stat': term }, h('dt', {}, term), h('dd', {}, value)),
        ),
      ),
      charts(stats),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'tests-title' },
      h(
        'div',
        { class: 'panel-head' },
        h('h3', { class: 'panel-title', id: 'tests-title' }, 'Tests'),
        h(
          'span',
          { class: 'count' },
          `${tests.length} over the last 50 runs with tests · ${flaky} flaky`,
        ),
      ),
      testTable(tests),
    ),
    history(query, runs),
  ]);
}
