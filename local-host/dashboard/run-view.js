// The run view, #/runs/<id>: steps with attempts and errors, tests, failures, Cancel and Rerun.

import { act, getJson, showOutcome } from './api.js';
import { h, rebuild, timeAgo } from './dom.js';
import { formatDuration, plural, prettyJson, shortId } from './format.js';
import { runLink, workflowHref } from './runs.js';
import {
  ended,
  pill,
  runDuration,
  runStatus,
  stepStatus,
  testsBadge,
  triggerText,
} from './status.js';

let shown = '';
/** The last Cancel or Rerun on this page, and for which run. */
let outcome = /** @type {{ id: string, outcome: Ui.Outcome<{ run_id: string }> } | null} */ (null);

/** @param {string} text */
const muted = (text) => h('span', { class: 'muted' }, text);

/** @param {string} label @param {string} text @param {string} className */
const block = (label, text, className) =>
  h(
    'div',
    { class: 'detail-block' },
    h('h4', {}, label),
    h('pre', { class: className, tabindex: '0', 'aria-label': label }, text),
  );

/**
 * A step, its error or skip reason, every attempt when there were several, its data folded.
 * @param {Api.HistoryStepDetail} step
 * @param {number} index
 */
function stepItem(step, index) {
  const attempts = step.attempt_details;
  return h(
    'li',
    { class: 'step' },
    h(
      'p',
      { class: 'detail-head' },
      pill(stepStatus(step)),
      h('strong', {}, step.step_type),
      muted(' on '),
      h('code', {}, step.service),
      muted(` · ${formatDuration(step.duration_ms)} · ${plural(step.attempts, 'attempt')}`),
    ),
    step.error ? block(step.skipped ? 'Reason' : 'Error', step.error, 'detail-error') : '',
    attempts.length > 1
      ? h(
          'ol',
          { class: 'attempts', 'aria-label': 'Attempts' },
          ...attempts.map((a) =>
            h(
              'li',
              {},
              muted(`Attempt ${a.attempt} `),
              pill(stepStatus({ success: a.success, skipped: false })),
              ` ${formatDuration(a.duration_ms)}`,
              a.error && muted(` — ${a.error}`),
            ),
          ),
        )
      : '',
    Object.keys(step.data).length
      ? h(
          'details',
          { 'data-key': `data-${index}` },
          h('summary', {}, 'Data'),
          h('pre', { class: 'detail-data', tabindex: '0' }, prettyJson(step.data)),
        )
      : '',
  );
}

/** Its name is `test`, else `name`, else `id`, as §14 reads them. @param {unknown} entry */
function failure(entry) {
  const f = /** @type {Record<string, unknown>} */ (
    entry && typeof entry === 'object' ? entry : {}
  );
  const name = f.test ?? f.name ?? f.id;
  const error = f.error ?? f.message ?? '';
  return {
    name: typeof name === 'string' && name !== '' ? name : null,
    error: typeof error === 'string' ? error : JSON.stringify(error),
  };
}

/** @param {Api.HistoryRecordDetail} run */
function failureList(run) {
  const items = run.steps.flatMap((step) => {
    const list = step.data.failures;
    if (!['test', 'verify'].includes(step.step_type) || !Array.isArray(list)) return [];
    return list.map((entry) => {
      const { name, error } = failure(entry);
      return h(
        'li',
        { 'data-test': name },
        name ? h('code', {}, name) : h('em', {}, 'no test name'),
        h('span', { class: 'failure-error' }, error),
        muted(`${step.step_type} on ${step.service}`),
      );
    });
  });
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'failures-title' },
    h('h3', { class: 'panel-title', id: 'failures-title' }, `Failures (${items.length})`),
    items.length ? h('ul', { class: 'failures' }, ...items) : h('p', { class: 'muted' }, 'None.'),
  );
}

/** @param {string} term @param {...(Node | string | null)} value */
const fact = (term, ...value) => h('div', {}, h('dt', {}, term), h('dd', {}, ...value));

/** @param {Api.HistoryRecordDetail} run @param {() => void} changed */
function actions(run, changed) {
  const { run_id: id } = run;
  /** @param {string} label @param {string} path @param {unknown} body @param {string} key */
  const button = (label, path, body, key) => {
    const b = h('button', { type: 'button', class: 'button', 'data-key': key }, label);
    b.addEventListener('click', async () => {
      const result = await act(
        b,
        `api/runs/${encodeURIComponent(id)}/${path}`,
        body,
        (/** @type {{ run_id: string }} */ r) =>
          path === 'cancel' ? 'Cancelled' : `Rerun queued: run ${shortId(r.run_id)}`,
      );
      outcome = { id, outcome: result };
      if (result.result && path === 'rerun') location.hash = runLink(result.result.run_id);
      else changed();
    });
    return b;
  };
  const message = h('p', { class: 'outcome', role: 'status' });
  showOutcome(message, outcome?.id === id ? outcome.outcome : null);
  return h(
    'div',
    { class: 'actions' },
    ...(ended(run)
      ? [
          button('Rerun failed steps', 'rerun', { from: 'failed' }, 'rerun'),
          button('Rerun from start', 'rerun', { from: 'start' }, 'rerun-start'),
        ]
      : [button('Cancel run', 'cancel', undefined, 'cancel')]),
    message,
  );
}

/**
 * A refresh that changes nothing leaves the page alone.
 * @param {HTMLElement} root
 * @param {string} id
 * @param {Promise<Ui.PageState>} page
 * @param {() => void} changed asks the page to refresh
 */
export async function showRun(root, id, page, changed) {
  /** @type {[Api.HistoryRecordDetail, Ui.PageState]} */
  const [run, { workflowsByKey }] = await Promise.all([
    getJson(`api/runs/${encodeURIComponent(id)}`),
    page,
  ]);
  const signature = JSON.stringify([run, outcome]);
  if (signature === shown && root.dataset.shows === id) return;
  shown = signature;
  root.dataset.shows = id;
  const workflow = workflowsByKey.get(run.workflow_name);
  const name = workflow?.name ?? run.workflow_name;
  const status = runStatus(run);
  const pending = ended(run) ? [] : (workflow?.steps.slice(run.steps.length) ?? []);
  document.title = `Run ${shortId(id)} · ${name} · Aegis`;
  rebuild(root, [
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'Overview'),
      h('a', { href: workflowHref(run.workflow_name) }, name),
      h('span', { 'aria-current': 'page' }, `run ${shortId(id)}`),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'view-title', 'data-status': status.label },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { id: 'view-title' }, `${name} `, h('code', { class: 'muted' }, id)),
        pill(status),
      ),
      h(
        'dl',
        { class: 'facts' },
        fact(
          'Tests',
          testsBadge(run.tests) || 'none ran',
          run.tests?.failed ? ` · ${run.tests.failed} failed` : '',
        ),
        fact('Trigger', h('span', { class: 'run-trigger' }, triggerText(run))),
        run.parent_run_id
          ? fact(
              'Rerun of',
              h('a', { href: runLink(run.parent_run_id) }, `run ${shortId(run.parent_run_id)}`),
            )
          : null,
        fact('Queued', timeAgo(run.queued_at)),
        run.started_at ? fact('Started', timeAgo(run.started_at)) : null,
        run.completed_at ? fact('Ended', timeAgo(run.completed_at)) : null,
        fact('Duration', runDuration(run)),
        run.reason ? fact('Reason', run.reason) : null,
      ),
      actions(run, changed),
    ),
    failureList(run),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'steps-title' },
      h(
        'h3',
        { class: 'panel-title', id: 'steps-title' },
        `Steps (${run.steps.length} recorded${pending.length ? `, ${pending.length} to come` : ''})`,
      ),
      h(
        'ol',
        { class: 'steps' },
        ...run.steps.map(stepItem),
        ...pending.map((step) =>
          h(
            'li',
            { class: 'step is-pending' },
            `○ ${step.type} on ${step.service}: not finished yet`,
          ),
        ),
      ),
    ),
  ]);
}
