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

/**
 * @param {{ status: string, success: boolean | null }} run
 * @returns {Status}
 */
export function runStatus(run) {
  if (run.status === 'running') return { tone: 'info', symbol: '●', label: 'running' };
  if (run.status === 'interrupted') return { tone: 'warn', symbol: '⚠', label: 'interrupted' };
  return run.success
    ? { tone: 'ok', symbol: '✓', label: 'passed' }
    : { tone: 'fail', symbol: '✗', label: 'failed' };
}

/**
 * @param {{ success: boolean, skipped: boolean }} step
 * @returns {Status}
 */
export function stepStatus(step) {
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
