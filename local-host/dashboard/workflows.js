// The workflows, their steps, and a Run button each.

import { showOutcome } from './api.js';
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
import { formatSeconds, plural } from './format.js';
import { workflowHref } from './runs.js';
import { pill, runStatus, updatePill } from './status.js';

/** The soonest of the workflow's. @param {readonly Api.Schedule[]} schedules @param {string} key */
export function nextRun(schedules, key) {
  let next = /** @type {Api.Schedule | null} */ (null);
  for (const s of schedules)
    if (
      s.workflow === key &&
      s.next_run_at &&
      (!next?.next_run_at || s.next_run_at < next.next_run_at)
    )
      next = s;
  return next;
}

/** "Next run" and when. @param {Api.Schedule} next */
const nextRunParts = (next) => [
  'Next run ',
  timeAgo(next.next_run_at),
  ' ',
  h('code', { title: `in ${next.timezone}` }, next.cron),
];

/** @param {Api.Schedule} next */
export const nextRunLine = (next) => h('p', { class: 'workflow-next' }, ...nextRunParts(next));

/** Its clicks are handled in app.js. @param {string} key */
export const runButton = (key) =>
  h(
    'button',
    { type: 'button', class: 'button button-primary run-button', 'data-workflow': key },
    h('span', { class: 'run-icon', 'aria-hidden': 'true' }),
    h('span', { class: 'run-label' }),
  );

/** @param {HTMLElement} button @param {string} name the workflow's @param {boolean} running */
export function updateRunButton(button, name, running) {
  // aria-disabled rather than disabled: the button keeps keyboard focus while the run goes on.
  setAttr(button, 'aria-disabled', running && 'true');
  setAttr(button, 'aria-busy', running && 'true');
  setAttr(button, 'aria-label', `${running ? 'Running' : 'Run'} ${name}`);
  setText(part(button, '.run-icon'), running ? '' : '▶');
  setText(part(button, '.run-label'), running ? 'Running…' : 'Run');
  button.classList.toggle('is-running', running);
}

/** @param {string} text @param {string} kind @param {string} [title] */
const badge = (text, kind, title) => h('span', { class: `badge badge-${kind}`, title }, text);

/** @param {Api.WorkflowStep} step @param {number} index */
function stepItem(step, index) {
  const { condition, parallel, retries, timeout } = step;
  return h(
    'li',
    { class: 'wf-step' },
    h('span', { class: 'wf-step-index', 'aria-hidden': 'true' }, String(index + 1)),
    h('span', { class: 'wf-step-type' }, step.type),
    h('span', { class: 'wf-step-on' }, 'on'),
    h('code', { class: 'wf-step-service' }, step.service),
    h(
      'span',
      { class: 'badges' },
      condition && badge(`if ${condition}`, 'condition', 'Runs only when this condition holds'),
      parallel && badge('parallel', 'parallel', 'Runs alongside the neighbouring parallel steps'),
      retries > 0 &&
        badge(
          `retries ${retries}`,
          'retries',
          `Up to ${retries} more attempts, backing off from ${formatSeconds(step.retry_delay)}`,
        ),
      badge(`timeout ${formatSeconds(timeout)}`, 'timeout', 'Timeout per attempt'),
    ),
  );
}

/** @param {Api.Workflow} workflow */
function create(workflow) {
  return h(
    'li',
    { class: 'workflow' },
    h(
      'div',
      { class: 'workflow-head' },
      h(
        'div',
        { class: 'workflow-title' },
        h('h3', { class: 'workflow-name' }, h('a', { href: workflowHref(workflow.key) })),
        h('code', { class: 'workflow-key' }),
      ),
      runButton(workflow.key),
    ),
    h(
      'p',
      { class: 'workflow-last' },
      h('span', { class: 'last-label' }, 'Last run'),
      pill(),
      timeAgo(),
    ),
    h('p', { class: 'workflow-next' }),
    h('ol', { class: 'wf-steps', 'aria-label': `Steps of ${workflow.name}` }),
    h('p', { class: 'workflow-message', role: 'status' }),
  );
}

/**
 * @param {Ui.PageState} state
 * @returns {(card: HTMLElement, workflow: Api.Workflow) => void}
 */
function updater(state) {
  return (card, workflow) => {
    setText(part(card, '.workflow-name a'), workflow.name);
    setText(part(card, '.workflow-key'), workflow.key);
    updateRunButton(part(card, '.run-button'), workflow.name, state.running.has(workflow.key));

    // The history is newest first.
    const last = state.history.find((run) => run.workflow_name === workflow.key);
    const lastLine = part(card, '.workflow-last');
    lastLine.hidden = !last;
    if (last) {
      updatePill(part(lastLine, '.pill'), runStatus(last));
      updateTimeAgo(part(lastLine, 'time'), last.started_at ?? last.queued_at);
    }

    const next = nextRun(state.schedules, workflow.key);
    const nextLine = part(card, '.workflow-next');
    nextLine.hidden = !next;
    rebuildIfChanged(nextLine, next, () => (next ? nextRunParts(next) : []));

    // Steps are configuration: rebuilt only when they differ.
    rebuildIfChanged(part(card, '.wf-steps'), workflow.steps, () => workflow.steps.map(stepItem));
    showOutcome(part(card, '.workflow-message'), state.messages.get(workflow.key));
  };
}

/** @param {Ui.PageState} state */
export function renderWorkflows(state) {
  const { workflows } = state;
  reconcile(byId('workflow-list'), workflows, (w) => w.key, create, updater(state));
  showCount(
    'workflows',
    workflows.length,
    'No workflows are configured. Add a workflows: section to .aegis.yaml (see examples/demo.aegis.yaml).',
    plural(workflows.length, 'workflow'),
  );
}
