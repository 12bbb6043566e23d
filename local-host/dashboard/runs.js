// The recent runs, each with a chip per step.

import {
  byId,
  h,
  part,
  rebuildIfChanged,
  reconcile,
  setAttr,
  setText,
  showCount,
  timeAgo,
  updateTimeAgo,
} from './dom.js';
import { plural, shortId } from './format.js';
import {
  ended,
  pill,
  runDuration,
  runStatus,
  stepStatus,
  testsClass,
  testsText,
  triggerText,
  updatePill,
} from './status.js';

let rendered = false;

/** @param {string} id */
export const runLink = (id) => `#/runs/${encodeURIComponent(id)}`;
/** @param {string} key */
export const workflowHref = (key) => `#/workflows/${encodeURIComponent(key)}`;

function create() {
  const row = h(
    'li',
    { class: 'run' },
    h(
      'div',
      { class: 'run-head' },
      pill(),
      h('a', { class: 'run-workflow' }),
      h('span', { class: 'tests' }),
      h(
        'span',
        { class: 'run-meta dot-list' },
        h('span', { class: 'run-started' }, h('span', { class: 'visually-hidden' }), timeAgo()),
        h('span', { class: 'run-duration', title: 'Duration' }),
        h('span', { class: 'run-trigger', title: 'Trigger' }),
        h('a', { class: 'run-id' }),
      ),
    ),
    h('ul', { class: 'run-steps', 'aria-label': 'Steps' }),
  );
  // Highlight runs that arrive after the first render.
  if (rendered) {
    row.classList.add('is-new');
    row.addEventListener('animationend', () => row.classList.remove('is-new'), { once: true });
  }
  return row;
}

/**
 * @param {string} type
 * @param {string} service
 * @param {Ui.Status | null} status null: not run yet
 * @param {string} href
 */
const chip = (type, service, status, href) =>
  h(
    'li',
    {},
    h(
      status ? 'a' : 'span',
      { class: `step-chip tone-${status?.tone ?? 'muted is-pending'}`, href: status && href },
      h('span', { 'aria-hidden': 'true' }, status?.symbol ?? '○'),
      type,
      h('span', { class: 'visually-hidden' }, ` on ${service}: ${status?.label ?? 'not run yet'}`),
    ),
  );

/**
 * @param {HTMLElement} row
 * @param {Api.HistoryRecord} run
 * @param {Api.Workflow} [workflow]
 */
function update(row, run, workflow) {
  const status = runStatus(run);
  setAttr(row, 'data-status', status.label);
  updatePill(part(row, '.run-head > .pill'), status);
  const name = part(row, '.run-workflow');
  setText(name, workflow?.name ?? run.workflow_name);
  setAttr(name, 'href', workflowHref(run.workflow_name));
  const tests = part(row, '.tests');
  setText(tests, testsText(run.tests));
  setAttr(tests, 'class', testsClass(run.tests));
  tests.hidden = !run.tests;
  setText(part(row, '.run-started > span'), run.started_at ? 'started ' : 'queued ');
  updateTimeAgo(part(row, '.run-started time'), run.started_at ?? run.queued_at);
  setText(part(row, '.run-duration'), run.started_at || ended(run) ? runDuration(run) : 'waiting');
  setText(part(row, '.run-trigger'), triggerText(run));
  const id = part(row, '.run-id');
  const href = runLink(run.run_id);
  setText(id, shortId(run.run_id));
  setAttr(id, 'href', href);
  setAttr(id, 'title', `Run ${run.run_id}: its details`);
  // Steps not recorded yet are shown as pending while the run goes on.
  const pending = ended(run) ? [] : (workflow?.steps.slice(run.steps.length) ?? []);
  rebuildIfChanged(part(row, '.run-steps'), [run.steps, pending.length], () => [
    ...run.steps.map((s) => chip(s.step_type, s.service, stepStatus(s), href)),
    ...pending.map((s) => chip(s.type, s.service, null, href)),
  ]);
}

/** @param {Ui.PageState} state */
export function renderRuns({ history: runs, workflowsByKey }) {
  reconcile(
    byId('run-list'),
    runs,
    (r) => r.run_id,
    create,
    (row, run) => update(row, run, workflowsByKey.get(run.workflow_name)),
  );
  rendered = true;
  showCount(
    'runs',
    runs.length,
    'No runs yet. Press Run on a workflow to start one.',
    `last ${plural(runs.length, 'run')}`,
  );
}
