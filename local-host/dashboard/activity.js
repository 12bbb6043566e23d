// The recent events, the configured webhooks and their deliveries.

import { act, showOutcome } from './api.js';
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
import { formatDuration, plural, shortId } from './format.js';
import { runLink } from './runs.js';
import {
  DELIVERY_STATUS,
  makeStatus,
  passedOrFailed,
  pill,
  stepStatus,
  updatePill,
} from './status.js';

/** Long feeds show this many rows until "Show all" is pressed. */
const COLLAPSED_ROWS = 8;

/** Collapsed or not survives refreshes. @param {string} listId @param {number} count */
function updateMoreButton(listId, count) {
  const button = byId(`${listId}-more`);
  const collapsed = byId(listId).classList.contains('is-collapsed');
  button.hidden = count <= COLLAPSED_ROWS;
  setAttr(button, 'aria-expanded', String(!collapsed));
  setText(button, collapsed ? `Show all ${count}` : 'Show fewer');
}

/** @param {() => void} changed called after a redelivery was queued */
export function initActivity(changed) {
  for (const listId of ['event-list', 'delivery-list'])
    byId(`${listId}-more`).addEventListener('click', () => {
      const list = byId(listId);
      list.classList.toggle('is-collapsed');
      updateMoreButton(listId, list.children.length);
    });
  byId('delivery-list').addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('.redeliver') : null;
    const row = button?.closest('li');
    if (!(button instanceof HTMLElement) || !(row instanceof HTMLElement)) return;
    const outcome = await act(
      button,
      `api/webhooks/deliveries/${row.dataset.key}/redeliver`,
      {},
      () => 'Queued again',
    );
    showOutcome(part(row, '.delivery-message'), outcome);
    changed();
  });
}

/** @param {unknown} value */
const num = (value) => (typeof value === 'number' ? value : 0);
/** @param {unknown} value */
const str = (value) => (typeof value === 'string' ? value : '');

/**
 * @param {Api.StoredEvent} event
 * @returns {{ status: Ui.Status, text: string }}
 */
function describeEvent({ event_type, data }) {
  const step = `${str(data.step_type)} on ${str(data.service)}`;
  switch (event_type) {
    case 'workflow.started':
      return {
        status: makeStatus('info', '▶', 'started'),
        text: `Run started with ${plural(num(data.step_count), 'step')}`,
      };
    case 'step.completed': {
      const status = stepStatus({ success: data.success === true, skipped: data.skipped === true });
      return {
        status,
        text: `${step} ${status.label} (${formatDuration(num(data.duration_ms))})`,
      };
    }
    case 'failure.detected':
      return {
        status: makeStatus('fail', '✗', 'failure'),
        text: `${step} failed: ${str(data.error)}`,
      };
    case 'workflow.completed': {
      const status = passedOrFailed(data.success === true);
      return {
        status,
        text: `Run ${status.label}: ${num(data.steps_passed)} passed, ${num(data.steps_failed)} failed, ${num(data.steps_skipped)} skipped (${formatDuration(num(data.total_duration_ms))})`,
      };
    }
    case 'workflow.cancelled':
      return {
        status: makeStatus('skip', '⊘', 'cancelled'),
        text: `Run cancelled: ${str(data.reason)}`,
      };
    default:
      return { status: makeStatus('muted', '•', event_type), text: event_type };
  }
}

/** An event never changes: its row is built once. @param {Api.StoredEvent} event */
function eventRow(event) {
  const { status, text } = describeEvent(event);
  return h(
    'li',
    { class: 'event' },
    h('span', { class: `event-symbol tone-${status.tone}`, 'aria-hidden': 'true' }, status.symbol),
    h(
      'div',
      { class: 'event-body' },
      h('p', { class: 'event-text' }, text),
      h(
        'p',
        { class: 'event-line dot-list' },
        h('code', { class: 'event-type' }, event.event_type),
        h('span', { class: 'event-workflow' }, event.workflow_name),
        h('a', { class: 'event-run', href: runLink(event.run_id) }, shortId(event.run_id)),
        timeAgo(event.timestamp),
      ),
    ),
  );
}

/** @param {readonly Api.StoredEvent[]} events */
export function renderEvents(events) {
  reconcile(
    byId('event-list'),
    events,
    (e) => String(e.id),
    eventRow,
    () => {},
  );
  updateMoreButton('event-list', events.length);
  showCount(
    'events',
    events.length,
    'No events yet: each run emits workflow.started, step.completed and workflow.completed.',
    `last ${plural(events.length, 'event')}`,
  );
}

/** @param {Api.Webhook} hook */
const hookRow = (hook) =>
  h(
    'li',
    { class: 'hook' },
    h('code', { class: 'hook-url' }, hook.url),
    h(
      'span',
      { class: 'badges' },
      ...hook.events.map((e) => h('span', { class: 'badge' }, e === '*' ? 'all events' : e)),
      h(
        'span',
        { class: `badge ${hook.signed ? 'badge-signed' : 'badge-unsigned'}` },
        hook.signed ? 'signed' : 'unsigned',
      ),
    ),
  );

/** @param {readonly Api.Webhook[]} hooks configuration, with nothing to focus: rebuilt on change */
export function renderWebhooks(hooks) {
  const list = byId('hook-list');
  rebuildIfChanged(list, hooks, () => hooks.map(hookRow));
  list.hidden = hooks.length === 0;
  setText(
    byId('webhooks-count'),
    hooks.length === 0 ? 'none configured' : plural(hooks.length, 'webhook'),
  );
}

function createDelivery() {
  return h(
    'li',
    { class: 'delivery' },
    pill(),
    h(
      'div',
      { class: 'delivery-body' },
      h(
        'p',
        { class: 'delivery-line' },
        h('code', { class: 'delivery-event' }),
        h('span', { class: 'delivery-host' }),
        h(
          'span',
          { class: 'delivery-outcome dot-list' },
          h('span', { class: 'delivery-attempts' }),
          h('span', { class: 'delivery-code' }),
          h('span', { class: 'delivery-next' }, 'next attempt ', timeAgo(null, true)),
          h('a', { class: 'delivery-run' }),
          h('time', { class: 'delivery-created' }),
          h('button', { type: 'button', class: 'link-button redeliver' }, 'Redeliver'),
        ),
      ),
      h('p', { class: 'delivery-error' }),
      h('p', { class: 'delivery-message outcome', role: 'status', hidden: true }),
    ),
  );
}

/** @param {string} url */
function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** @param {HTMLElement} row @param {Api.Delivery} delivery */
function updateDelivery(row, delivery) {
  const { status, url, last_status_code: code, last_error: error } = delivery;
  updatePill(
    part(row, ':scope > .pill'),
    DELIVERY_STATUS[status] ?? makeStatus('muted', '•', status),
  );
  setText(part(row, '.delivery-event'), delivery.event_type);
  const host = part(row, '.delivery-host');
  setText(host, `→ ${hostOf(url)}`);
  setAttr(host, 'title', url);
  const run = part(row, '.delivery-run');
  setText(run, `run ${shortId(delivery.run_id)}`);
  setAttr(run, 'href', runLink(delivery.run_id));
  part(row, '.redeliver').hidden = status === 'pending';
  setText(part(row, '.delivery-attempts'), plural(delivery.attempts, 'attempt'));
  const codeEl = part(row, '.delivery-code');
  setText(codeEl, code === null ? '' : `HTTP ${code}`);
  codeEl.hidden = code === null;
  const next = part(row, '.delivery-next');
  next.hidden = status !== 'pending' || !delivery.next_attempt_at || delivery.attempts === 0;
  if (delivery.next_attempt_at) updateTimeAgo(part(next, 'time'), delivery.next_attempt_at);
  const errorEl = part(row, '.delivery-error');
  setText(errorEl, error ?? '');
  setAttr(errorEl, 'title', error);
  errorEl.hidden = !error || status === 'delivered';
  updateTimeAgo(part(row, '.delivery-created'), delivery.created_at);
}

/** @param {readonly Api.Delivery[]} deliveries @param {number} hooksConfigured */
export function renderDeliveries(deliveries, hooksConfigured) {
  reconcile(byId('delivery-list'), deliveries, (d) => String(d.id), createDelivery, updateDelivery);
  updateMoreButton('delivery-list', deliveries.length);
  showCount(
    'deliveries',
    deliveries.length,
    hooksConfigured > 0
      ? 'No deliveries yet. Each run queues one per event a webhook subscribes to.'
      : 'No webhooks are configured. Add a webhooks: section to .aegis.yaml to have runs reported to a URL.',
  );
}
