// Status pills: a symbol and a word, so no state is told by colour alone.

import { h, setAttr, setText } from './dom.js';

/**
 * @typedef {'ok' | 'fail' | 'skip' | 'warn' | 'info' | 'muted'} Tone
 * @typedef {{ tone: Tone, symbol: string, label: string }} Status
 */

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

/** @param {{ status: string }} run */
export const ended = (run) => run.status !== 'queued' && run.status !== 'running';

/**
 * "10/12 passed", told by colour and by word; '' when no test step answered.
 * @param {{ total: number, passed: number, failed: number } | null} tests
 */
export function testsText(tests) {
  return tests ? `${tests.passed}/${tests.total} passed` : '';
}

/**
 * The classes of a test-count badge.
 * @param {{ failed: number } | null} tests
 */
export const testsClass = (tests) => `tests tone-${tests && tests.failed > 0 ? 'fail' : 'ok'}`;

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
export function runStatus(run) {
  const other = RUN_STATUS[run.status];
  if (other) return other;
  return run.success
    ? { tone: 'ok', symbol: '✓', label: 'passed' }
    : { tone: 'fail', symbol: '✗', label: 'failed' };
}

/**
 * @param {{ success: boolean, skipped: boolean, reused?: boolean }} step
 * @returns {Status}
 */
export function stepStatus(step) {
  if (step.reused) return { tone: 'ok', symbol: '↺', label: 'reused' };
  if (step.skipped) return { tone: 'skip', symbol: '⊘', label: 'skipped' };
  return step.success
    ? { tone: 'ok', symbol: '✓', label: 'passed' }
    : { tone: 'fail', symbol: '✗', label: 'failed' };
}

/** @type {Record<string, Status>} */
export const DELIVERY_STATUS = {
  delivered: { tone: 'ok', symbol: '✓', label: 'delivered' },
  failed: { tone: 'fail', symbol: '✗', label: 'failed' },
  pending: { tone: 'info', symbol: '●', label: 'pending' },
};

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
