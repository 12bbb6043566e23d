// The dashboard: polls the API, renders each section in place, runs workflows.

import { initActivity, renderDeliveries, renderEvents, renderWebhooks } from './activity.js';
import { ApiError, getJson, runWorkflow, storeApiKey, storedApiKey } from './api.js';
import { byId, h, setText, tickTimes, timeAgo, updateTimeAgo } from './dom.js';
import { formatDuration } from './format.js';
import { initRuns, renderRuns } from './runs.js';
import { renderServices } from './services.js';
import { renderWorkflows } from './workflows.js';

/**
 * @typedef {import('./types.js').Health} Health
 * @typedef {import('./types.js').Service} Service
 * @typedef {import('./types.js').Workflow} Workflow
 * @typedef {import('./types.js').HistoryRecord} HistoryRecord
 * @typedef {import('./types.js').StoredEvent} StoredEvent
 * @typedef {import('./types.js').Webhook} Webhook
 * @typedef {import('./types.js').Delivery} Delivery
 */

/** `?refresh=N` sets the refresh period in seconds (1..60; default 4). */
const REFRESH_MS = (() => {
  const seconds = Number(new URLSearchParams(location.search).get('refresh') ?? 4);
  return Number.isFinite(seconds) ? Math.min(60, Math.max(1, seconds)) * 1000 : 4000;
})();
/** Faster while a run is going on, so its steps appear as they finish. */
const BUSY_MS = Math.min(REFRESH_MS, 1500);
/** How often an unreachable API is tried again. */
const OFFLINE_MS = Math.min(REFRESH_MS, 2000);
/** A tab nobody looks at polls rarely; it catches up when shown again. */
const HIDDEN_MS = 30_000;

const state = {
  /** null until the first answer. */
  online: /** @type {boolean | null} */ (null),
  workflows: /** @type {Workflow[]} */ ([]),
  workflowsByKey: /** @type {Map<string, Workflow>} */ (new Map()),
  history: /** @type {HistoryRecord[]} */ ([]),
  webhooks: /** @type {Webhook[] | null} */ (null),
  /** Workflows whose POST …/run is in flight from this page. */
  running: /** @type {Set<string>} */ (new Set()),
  /** The outcome of the last run started here, per workflow. */
  messages: /** @type {Map<string, { tone: 'ok' | 'fail', text: string }>} */ (new Map()),
  servicesInFlight: false,
};

// ---- rendering glue ---------------------------------------------------------

/** @param {string} text */
function announce(text) {
  const announcer = byId('announcer');
  announcer.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

function drawWorkflows() {
  /** @type {Map<string, HistoryRecord>} */
  const lastRuns = new Map();
  for (const run of state.history)
    if (!lastRuns.has(run.workflow_name)) lastRuns.set(run.workflow_name, run);
  renderWorkflows(state.workflows, { lastRuns, running: state.running, messages: state.messages });
}

/**
 * @param {string} section
 * @param {unknown} error
 */
function showSectionError(section, error) {
  const element = byId(`${section}-error`);
  if (error === null) {
    element.hidden = true;
    return;
  }
  setText(element, `Could not load: ${error instanceof Error ? error.message : String(error)}`);
  element.hidden = false;
}

/** @param {string} section */
function loaded(section) {
  byId(section).setAttribute('aria-busy', 'false');
}

// ---- connection state ---------------------------------------------------------

const connectionText = byId('connection-text');
const updatedAt = timeAgo();
let lastSuccess = /** @type {string | null} */ (null);

/** @param {Health} health */
function markOnline(health) {
  const wasOffline = state.online === false;
  state.online = true;
  lastSuccess = new Date().toISOString();
  document.body.classList.replace('is-offline', 'is-online') ||
    document.body.classList.add('is-online');
  byId('offline-banner').hidden = true;
  setText(byId('version'), `v${health.version}`);
  connectionText.replaceChildren('Live · updated ', updatedAt);
  updateTimeAgo(updatedAt, lastSuccess);
  setText(
    byId('summary'),
    `Aegis ${health.version} · up ${formatDuration(health.uptime_seconds * 1000)} · refreshes every ${REFRESH_MS / 1000} s`,
  );
  document.title = 'Aegis dashboard';
  if (wasOffline) announce('The API is reachable again.');
}

/** @param {unknown} error */
function markOffline(error) {
  state.online = false;
  document.body.classList.remove('is-online');
  document.body.classList.add('is-offline');
  const why =
    error instanceof ApiError && error.status !== 0 ? `it answered ${error.message}` : 'no answer';
  const detail = byId('offline-detail');
  detail.replaceChildren(
    `Cannot reach the Aegis API at ${location.host} (${why}). `,
    lastSuccess ? h('span', {}, 'Showing data from ', timeAgo(lastSuccess), '; ') : '',
    `retrying every ${OFFLINE_MS / 1000} s.`,
  );
  byId('offline-banner').hidden = false;
  connectionText.replaceChildren('Offline');
  document.title = 'API unreachable · Aegis dashboard';
}

// ---- polling ------------------------------------------------------------------

async function refreshServices() {
  if (state.servicesInFlight) return;
  state.servicesInFlight = true;
  try {
    // Live checks: a hanging service holds this answer up to its timeout, and nothing else.
    renderServices(await getJson('api/services', 20_000));
    showSectionError('services', null);
    loaded('services');
  } catch (error) {
    if (!(error instanceof ApiError && error.unreachable)) showSectionError('services', error);
  } finally {
    state.servicesInFlight = false;
  }
}

/**
 * Fetches one part of a section and renders it; a failure shows in that part only.
 * @template T
 * @param {string} section the <section>'s id
 * @param {string} part names the error line, `${part}-error`
 * @param {string} path
 * @param {(value: T) => void} render
 */
async function refreshSection(section, part, path, render) {
  try {
    render(/** @type {T} */ (await getJson(path)));
    showSectionError(part, null);
  } catch (error) {
    showSectionError(part, error);
  }
  loaded(section);
}

async function refreshAll() {
  /** @type {Health} */
  let health;
  try {
    health = await getJson('health', 5000);
  } catch (error) {
    markOffline(error);
    return;
  }
  markOnline(health);
  void refreshServices();
  await Promise.all([
    refreshSection(
      'workflows',
      'workflows',
      'api/workflows',
      (/** @type {Workflow[]} */ workflows) => {
        state.workflows = workflows;
        state.workflowsByKey = new Map(workflows.map((w) => [w.key, w]));
      },
    ),
    refreshSection(
      'runs',
      'runs',
      'api/history?limit=10',
      (/** @type {HistoryRecord[]} */ history) => {
        state.history = history;
      },
    ),
    refreshSection('events', 'events', 'api/events?limit=20', renderEvents),
    refreshSection('webhooks', 'webhooks', 'api/webhooks', (/** @type {Webhook[]} */ hooks) => {
      state.webhooks = hooks;
      renderWebhooks(hooks);
    }),
  ]);
  // Deliveries after webhooks, so the empty state can say whether any are configured.
  await refreshSection(
    'webhooks',
    'deliveries',
    'api/webhooks/deliveries?limit=20',
    (/** @type {Delivery[]} */ d) => renderDeliveries(d, state.webhooks?.length ?? 0),
  );
  drawWorkflows();
  renderRuns(state.history, state.workflowsByKey);
}

let timer = 0;
let ticking = false;
let again = false;

function nextDelay() {
  if (state.online === false) return OFFLINE_MS;
  if (document.hidden) return HIDDEN_MS;
  const busy = state.running.size > 0 || state.history.some((r) => r.status === 'running');
  return busy ? BUSY_MS : REFRESH_MS;
}

/** One refresh at a time; asking during one queues exactly one more. */
async function tick() {
  if (ticking) {
    again = true;
    return;
  }
  ticking = true;
  clearTimeout(timer);
  try {
    await refreshAll();
  } catch (error) {
    console.error('dashboard refresh failed', error);
  } finally {
    ticking = false;
    if (again) {
      again = false;
      void tick();
    } else {
      timer = window.setTimeout(tick, nextDelay());
    }
  }
}

// ---- running a workflow --------------------------------------------------------

const keyDialog = /** @type {HTMLDialogElement} */ (byId('key-dialog'));
const keyInput = /** @type {HTMLInputElement} */ (byId('key-input'));
let keyPrompt = /** @type {Promise<string | null> | null} */ (null);

/**
 * Asks for the API key; null when the person cancels. Concurrent asks share one dialog.
 * @param {string | null} problem shown above the field (a rejected key, say)
 * @returns {Promise<string | null>}
 */
function askForKey(problem) {
  keyPrompt ??= new Promise((resolve) => {
    const error = byId('key-error');
    setText(error, problem ?? '');
    error.hidden = !problem;
    keyInput.value = '';
    keyDialog.returnValue = '';
    keyDialog.addEventListener(
      'close',
      () => {
        const key = keyInput.value.trim();
        keyInput.value = '';
        keyPrompt = null;
        resolve(keyDialog.returnValue === 'ok' && key !== '' ? key : null);
      },
      { once: true },
    );
    keyDialog.showModal();
    keyInput.focus();
  });
  return keyPrompt;
}

function drawForgetKey() {
  byId('forget-key').hidden = storedApiKey() === null;
}

/** @param {string} key */
async function run(key) {
  if (state.running.has(key)) return;
  const name = state.workflowsByKey.get(key)?.name ?? key;
  state.running.add(key);
  state.messages.delete(key);
  drawWorkflows();
  announce(`Running ${name}…`);
  // The run is recorded as running when it starts: show it without waiting for the end.
  setTimeout(() => void tick(), 300);
  /** @type {{ tone: 'ok' | 'fail', text: string }} */
  let message = { tone: 'fail', text: 'Not run.' };
  try {
    let apiKey = storedApiKey();
    for (;;) {
      try {
        const result = await runWorkflow(key, apiKey);
        if (apiKey) storeApiKey(apiKey);
        message = result.success
          ? { tone: 'ok', text: `✓ Passed in ${formatDuration(result.duration_ms)}` }
          : {
              tone: 'fail',
              text: `✗ Failed in ${formatDuration(result.duration_ms)}: see its steps under Recent runs`,
            };
        break;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) throw error;
        storeApiKey(null);
        apiKey = await askForKey(
          apiKey ? 'That API key was not accepted. Check it and try again.' : null,
        );
        if (apiKey === null) {
          message = {
            tone: 'fail',
            text: 'Not run: this Aegis needs an API key to run workflows.',
          };
          break;
        }
      }
    }
  } catch (error) {
    const text =
      error instanceof ApiError && error.unreachable
        ? 'the API could not be reached'
        : String(error instanceof Error ? error.message : error);
    message = { tone: 'fail', text: `✗ Could not run: ${text}` };
  } finally {
    state.running.delete(key);
    drawForgetKey();
  }
  state.messages.set(key, message);
  announce(`${name}: ${message.text.replace(/^[✓✗] /, '')}`);
  if (message.tone === 'ok') {
    const shown = message;
    setTimeout(() => {
      if (state.messages.get(key) === shown) {
        state.messages.delete(key);
        drawWorkflows();
      }
    }, 8000);
  }
  drawWorkflows();
  void tick();
}

// ---- start ---------------------------------------------------------------------

byId('workflow-list').addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.run-button') : null;
  if (!(button instanceof HTMLElement) || button.getAttribute('aria-disabled') === 'true') return;
  const key = button.dataset.workflow;
  if (key) void run(key);
});

// A type=button, so that Enter in the field submits the key rather than cancelling.
byId('key-cancel').addEventListener('click', () => keyDialog.close('cancel'));

byId('forget-key').addEventListener('click', () => {
  storeApiKey(null);
  drawForgetKey();
  announce('The API key was forgotten; the next run asks for it again.');
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void tick();
});

initRuns();
initActivity();
drawForgetKey();
setInterval(() => tickTimes(), 1000);
void tick();
