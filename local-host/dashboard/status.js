// Status pills: a symbol and a word, so no state is told by colour alone.

import { h, setAttr, setText } from './dom.js';
import { formatDuration } from './format.js';

/**
 * @typedef {'ok' | 'fail' | 'skip' | 'warn' | 'info' | 'muted'} Tone
 * @typedef {{ tone: Tone, symbol: string, label: string }} Status
 */

/** @type {Status} */
const PASSED = { tone: 'ok', symbol: '✓', label: 'passed' };
/** @type {Status} */
const FAILED = { tone: 'fail', symbol: '✗', label: 'failed' };

/** @param {boolean | null} success */
export const passedOrFailed = (success) => (success ? PASSED : FAILED);

/** @type {Record<string, Status>} */
export const SERVICE_STATUS = {
  healthy: { tone: 'ok', symbol: '✓', label: 'healthy' },
  unhealthy: { tone: 'fail', symbol: '✗', label: 'unhealthy' },
  unreachable: { tone: 'fail', symbol: '⊘', label: 'unreachable' },
  timeout: { tone: 'warn', symbol: '◷', label: 'timeout' },
};

/** @type {Record<string, Status>} */
const RUN_STATUS = {
  queued: { tone: 'muted', symbol: '◷', label: 'queued' },
  running: { tone: 'info', symbol: '●', label: 'running' },
  cancelled: { tone: 'skip', symbol: '⊘', label: 'cancelled' },
  interrupted: { tone: 'warn', symbol: '⚠', label: 'interrupted' },
};

/** @type {Record<string, Status>} */
export const DELIVERY_STATUS = {
  delivered: { tone: 'ok', symbol: '✓', label: 'delivered' },
  failed: FAILED,
  pending: { tone: 'info', symbol: '●', label: 'pending' },
};

/** @param {{ status: string }} run */
export const ended = (run) => run.status !== 'queued' && run.status !== 'running';

/** @param {{ status: string, duration_ms: number | null }} run */
export const runDuration = (run) => (ended(run) ? formatDuration(run.duration_ms) : 'in progress');

/**
 * "10/12 passed", told by colour and by word; '' when no test step answered.
 * @param {Api.TestCounts | null} tests
 */
export const testsText = (tests) => (tests ? `${tests.passed}/${tests.total} passed` : '');

/** @param {{ failed: number } | null} tests */
export const testsClass = (tests) => `tests tone-${tests && tests.failed > 0 ? 'fail' : 'ok'}`;

/** A run's test-count badge, or '' when no test step answered. @param {Api.TestCounts | null} tests */
export const testsBadge = (tests) =>
  tests ? h('span', { class: testsClass(tests) }, testsText(tests)) : '';

/**
 * "schedule", "api by ci-bot".
 * @param {{ trigger: string, triggered_by: string | null }} run
 */
export const triggerText = (run) =>
  run.triggered_by ? `${run.trigger} by ${run.triggered_by}` : run.trigger;

/**
 * @param {{ status: string, success: boolean | null }} run
 * @returns {Status}
 */
export const runStatus = (run) => RUN_STATUS[run.status] ?? passedOrFailed(run.success);

/**
 * @param {{ success: boolean, skipped: boolean, reused?: boolean }} step
 * @returns {Status}
 */
export function stepStatus(step) {
  if (step.reused) return { tone: 'ok', symbol: '↺', label: 'reused' };
  if (step.skipped) return { tone: 'skip', symbol: '⊘', label: 'skipped' };
  return passedOrFailed(step.success);
}

/** @param {Status} [status] */
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

/**
 * @param {Element} element
 * @param {Status} status
 */
export function updatePill(element, { tone, symbol, label }) {
  setAttr(element, 'class', `pill tone-${tone}`);
  const [symbolEl, labelEl] = element.children;
  if (symbolEl) setText(symbolEl, symbol);
  if (labelEl) setText(labelEl, label);
}
