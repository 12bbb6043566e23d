// Status pills: a symbol and a word, so no state is told by colour alone.

import { h, setAttr, setText } from './dom.js';
import { formatDuration } from './format.js';

/**
 * @param {Ui.Tone} tone
 * @param {string} symbol
 * @param {string} label
 * @returns {Ui.Status}
 */
export const makeStatus = (tone, symbol, label) => ({ tone, symbol, label });

const PASSED = makeStatus('ok', '✓', 'passed');
const FAILED = makeStatus('fail', '✗', 'failed');

/** @param {boolean | null} success */
export const passedOrFailed = (success) => (success ? PASSED : FAILED);

/** @type {Record<string, Ui.Status>} */
export const SERVICE_STATUS = {
  healthy: makeStatus('ok', '✓', 'healthy'),
  unhealthy: makeStatus('fail', '✗', 'unhealthy'),
  unreachable: makeStatus('fail', '⊘', 'unreachable'),
  timeout: makeStatus('warn', '◷', 'timeout'),
};

/** @type {Record<string, Ui.Status>} */
const RUN_STATUS = {
  queued: makeStatus('muted', '◷', 'queued'),
  running: makeStatus('info', '●', 'running'),
  cancelled: makeStatus('skip', '⊘', 'cancelled'),
  interrupted: makeStatus('warn', '⚠', 'interrupted'),
};

/** @type {Record<string, Ui.Status>} */
export const DELIVERY_STATUS = {
  delivered: makeStatus('ok', '✓', 'delivered'),
  failed: FAILED,
  pending: makeStatus('info', '●', 'pending'),
};

/** @param {Api.RunFields} run */
export const ended = (run) => run.status !== 'queued' && run.status !== 'running';

/** @param {Api.RunFields} run */
export const runDuration = (run) => (ended(run) ? formatDuration(run.duration_ms) : 'in progress');

/** "10/12 passed"; '' when no test step answered. @param {Api.TestCounts | null} tests */
export const testsText = (tests) => (tests ? `${tests.passed}/${tests.total} passed` : '');

/** @param {Api.TestCounts | null} tests */
export const testsClass = (tests) => `tests tone-${tests && tests.failed > 0 ? 'fail' : 'ok'}`;

/** @param {Api.TestCounts | null} tests */
export const testsBadge = (tests) =>
  tests ? h('span', { class: testsClass(tests) }, testsText(tests)) : '';

/** "schedule", "api by ci-bot". @param {Api.RunFields} run */
export const triggerText = (run) =>
  run.triggered_by ? `${run.trigger} by ${run.triggered_by}` : run.trigger;

/** @param {Api.RunFields} run */
export const runStatus = (run) => RUN_STATUS[run.status] ?? passedOrFailed(run.success);

/** @param {{ success: boolean, skipped: boolean, reused?: boolean }} step */
export function stepStatus(step) {
  if (step.reused) return makeStatus('ok', '↺', 'reused');
  if (step.skipped) return makeStatus('skip', '⊘', 'skipped');
  return passedOrFailed(step.success);
}

/** @param {Ui.Status} [status] */
export function pill(status) {
  const element = h(
    'span',
    { class: 'pill' },
    h('span', { class: 'pill-symbol', 'aria-hidden': 'true' }),
    h('span', { class: 'pill-label' }),
  );
  if (status) updatePill(element, status);
  return element;
}

/** @param {Element} element @param {Ui.Status} status */
export function updatePill(element, { tone, symbol, label }) {
  setAttr(element, 'class', `pill tone-${tone}`);
  const [symbolEl, labelEl] = element.children;
  if (symbolEl) setText(symbolEl, symbol);
  if (labelEl) setText(labelEl, label);
}
