// The recent runs: status, workflow, start, duration, and each step, expandable to its error or data.

import { getJson } from './api.js';
import { byId, h, part, reconcile, setAttr, setText, timeAgo, updateTimeAgo } from './dom.js';
import { formatDuration, plural, prettyJson, shortId } from './format.js';
import { pill, runStatus, stepStatus, updatePill } from './status.js';

/**
 * @typedef {import('./types.js').HistoryRecord} HistoryRecord
 * @typedef {import('./types.js').HistoryRecordDetail} HistoryRecordDetail
 * @typedef {import('./types.js').HistoryStep} HistoryStep
 * @typedef {import('./types.js').Workflow} Workflow
 * @typedef {{ version: string, record?: HistoryRecordDetail, error?: string }} Detail
 */

/** Which step of which run is open; survives refreshes. */
const expanded = /** @type {Map<string, number>} */ (new Map());
/** Full records (with step data) fetched for open steps, per run. */
const details = /** @type {Map<string, Detail>} */ (new Map());

let records = /** @type {readonly HistoryRecord[]} */ ([]);
let workflows = /** @type {ReadonlyMap<string, Workflow>} */ (new Map());
let rendered = false;

/** A record changes while it runs; a fetched detail is good for one version of it. */
/** @param {HistoryRecord} run */
const versionOf = (run) => `${run.status}:${run.step_count}`;

/** @param {string} runId */
const panelId = (runId) => `run-${runId.replace(/[^\w-]/g, '_')}-detail`;

/** @param {HistoryRecord} run */
function create(run) {
  const row = h(
    'li',
    { class: 'run' },
    h(
      'div',
      { class: 'run-head' },
      pill(),
      h('span', { class: 'run-workflow' }),
      h(
        'span',
        { class: 'run-meta dot-list' },
        h(
          'span',
          { class: 'run-started' },
          h('span', { class: 'visually-hidden' }, 'started '),
          timeAgo(),
        ),
        h('span', { class: 'run-duration', title: 'Duration' }),
        h('code', { class: 'run-id' }),
      ),
    ),
    h('ul', { class: 'run-steps', 'aria-label': 'Steps' }),
    h('div', { class: 'step-detail', id: panelId(run.run_id), hidden: true }),
  );
  if (rendered) {
    row.classList.add('is-new');
    row.addEventListener('animationend', () => row.classList.remove('is-new'), { once: true });
  }
  return row;
}

/**
 * @param {HistoryStep} step
 * @param {number} index
 * @param {string} runId
 */
function stepChip(step, index, runId) {
  const status = stepStatus(step);
  return h(
    'li',
    {},
    h(
      'button',
      {
        type: 'button',
        class: `step-chip tone-${status.tone}`,
        'data-run': runId,
        'data-step': index,
        'aria-expanded': 'false',
        'aria-controls': panelId(runId),
      },
      h('span', { class: 'chip-symbol', 'aria-hidden': 'true' }, status.symbol),
      h('span', {}, step.step_type),
      h('span', { class: 'visually-hidden' }, ` on ${step.service}: ${status.label}`),
    ),
  );
}

/** @param {string} type */
function pendingChip(type) {
  return h(
    'li',
    {},
    h(
      'span',
      { class: 'step-chip tone-muted is-pending' },
      h('span', { class: 'chip-symbol', 'aria-hidden': 'true' }, '○'),
      h('span', {}, type),
      h('span', { class: 'visually-hidden' }, ': not run yet'),
    ),
  );
}

/**
 * @param {string} label
 * @param {string} text
 * @param {string} className
 */
function block(label, text, className) {
  return h(
    'div',
    { class: 'detail-block' },
    h('h4', {}, label),
    h('pre', { class: className, tabindex: '0', 'aria-label': label }, text),
  );
}

/**
 * @param {HistoryRecord} run
 * @param {number} index
 * @returns {Node[]}
 */
function detailContent(run, index) {
  const step = run.steps[index];
  if (!step) return [];
  const status = stepStatus(step);
  const detail = details.get(run.run_id);
  const full = detail?.record?.steps[index];
  const nodes = /** @type {Node[]} */ ([
    h(
      'p',
      { class: 'detail-head' },
      pill(status),
      h('strong', {}, step.step_type),
      h('span', { class: 'muted' }, ' on '),
      h('code', {}, step.service),
      h(
        'span',
        { class: 'muted' },
        ` · ${formatDuration(step.duration_ms)} · ${plural(step.attempts, 'attempt')}`,
      ),
    ),
  ]);
  if (step.error)
    nodes.push(
      step.skipped
        ? block('Reason', step.error, 'detail-reason')
        : block('Error', step.error, 'detail-error'),
    );
  if (detail?.error)
    nodes.push(
      h('p', { class: 'section-error' }, `Could not load the step's data: ${detail.error}`),
    );
  else if (!full) nodes.push(h('p', { class: 'muted' }, 'Loading data…'));
  else {
    if (Object.keys(full.data).length > 0)
      nodes.push(block('Data', prettyJson(full.data), 'detail-data'));
    else if (!step.error) nodes.push(h('p', { class: 'muted detail-block' }, 'No data recorded.'));
    if (full.attempt_details.length > 1) {
      nodes.push(
        h(
          'div',
          { class: 'detail-block' },
          h('h4', {}, 'Attempts'),
          h(
            'ol',
            { class: 'attempts' },
            ...full.attempt_details.map((a) =>
              h(
                'li',
                {},
                h('span', { class: 'attempt-number' }, `Attempt ${a.attempt}`),
                pill(stepStatus({ success: a.success, skipped: false })),
                ` ${formatDuration(a.duration_ms)}`,
                a.error ? h('span', { class: 'muted' }, ` — ${a.error}`) : null,
              ),
            ),
          ),
        ),
      );
    }
  }
  return nodes;
}

/** @param {HistoryRecord} run */
async function loadDetail(run) {
  const version = versionOf(run);
  const known = details.get(run.run_id);
  if (known && known.version === version) return;
  // Keep what is known while the newer version loads, so an open panel does not blink.
  details.set(run.run_id, known?.record ? { version, record: known.record } : { version });
  try {
    const record = await getJson(`api/runs/${encodeURIComponent(run.run_id)}`);
    details.set(run.run_id, { version, record: /** @type {HistoryRecordDetail} */ (record) });
  } catch (error) {
    details.set(run.run_id, {
      version,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  const current = records.find((r) => r.run_id === run.run_id);
  const row = document.querySelector(`#run-list > [data-key="${CSS.escape(run.run_id)}"]`);
  if (current && row instanceof HTMLElement) update(row, current);
}

/**
 * @param {HTMLElement} row
 * @param {HistoryRecord} run
 */
function update(row, run) {
  const status = runStatus(run);
  setAttr(row, 'data-status', status.label);
  updatePill(part(row, '.run-head > .pill'), status);
  const workflow = workflows.get(run.workflow_name);
  setText(part(row, '.run-workflow'), workflow?.name ?? run.workflow_name);
  updateTimeAgo(part(row, '.run-started time'), run.started_at);
  setText(
    part(row, '.run-duration'),
    run.status === 'running' ? 'in progress' : formatDuration(run.duration_ms),
  );
  const id = part(row, '.run-id');
  setText(id, shortId(run.run_id));
  setAttr(id, 'title', `Run ${run.run_id}`);

  // Steps not recorded yet are shown as pending while the run goes on.
  const pending =
    run.status === 'running' && workflow
      ? workflow.steps.slice(run.steps.length).map((s) => s.type)
      : [];
  const open = expanded.get(run.run_id);
  const chipsKey = JSON.stringify([run.steps, pending]);
  const chips = part(row, '.run-steps');
  if (chips.dataset.signature !== chipsKey) {
    chips.dataset.signature = chipsKey;
    const focused =
      document.activeElement instanceof HTMLElement
        ? document.activeElement.dataset.step
        : undefined;
    const hadFocus = chips.contains(document.activeElement);
    chips.replaceChildren(
      ...run.steps.map((step, index) => stepChip(step, index, run.run_id)),
      ...pending.map(pendingChip),
    );
    const again = hadFocus ? chips.querySelector(`button[data-step="${focused}"]`) : null;
    if (again instanceof HTMLElement) again.focus();
  }
  for (const chip of chips.querySelectorAll('button.step-chip')) {
    setAttr(chip, 'aria-expanded', String(Number(chip.getAttribute('data-step')) === open));
  }

  const panel = part(row, '.step-detail');
  const show = open !== undefined && run.steps[open] !== undefined;
  panel.hidden = !show;
  if (!show) {
    panel.dataset.signature = '';
    return;
  }
  const detail = details.get(run.run_id);
  const panelKey = JSON.stringify([
    open,
    run.steps[open],
    detail?.version,
    !!detail?.record,
    detail?.error,
  ]);
  if (panel.dataset.signature !== panelKey) {
    panel.dataset.signature = panelKey;
    panel.replaceChildren(...detailContent(run, open));
  }
  if (!detail || detail.version !== versionOf(run)) void loadDetail(run);
}

/**
 * @param {readonly HistoryRecord[]} runs
 * @param {ReadonlyMap<string, Workflow>} workflowsByKey
 */
export function renderRuns(runs, workflowsByKey) {
  records = runs;
  workflows = workflowsByKey;
  const ids = new Set(runs.map((r) => r.run_id));
  for (const id of expanded.keys()) if (!ids.has(id)) expanded.delete(id);
  for (const id of details.keys()) if (!ids.has(id)) details.delete(id);
  reconcile(byId('run-list'), runs, (r) => r.run_id, create, update);
  rendered = true;
  const empty = byId('runs-empty');
  empty.hidden = runs.length > 0;
  setText(empty, 'No runs yet. Press Run on a workflow to start one.');
  setText(byId('runs-count'), runs.length === 0 ? '' : `last ${plural(runs.length, 'run')}`);
}

/** Opens and closes a step's details (one step per run at a time). */
export function initRuns() {
  byId('run-list').addEventListener('click', (event) => {
    const target =
      event.target instanceof Element ? event.target.closest('button.step-chip') : null;
    if (!(target instanceof HTMLElement)) return;
    const runId = target.dataset.run ?? '';
    const index = Number(target.dataset.step);
    if (expanded.get(runId) === index) expanded.delete(runId);
    else expanded.set(runId, index);
    const run = records.find((r) => r.run_id === runId);
    const row = target.closest('li.run');
    if (run && row instanceof HTMLElement) update(row, run);
  });
}
