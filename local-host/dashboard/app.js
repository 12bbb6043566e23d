// The page: the overview or a run or workflow view, refreshed by the event stream and by polling.

import { initActivity, renderDeliveries, renderEvents, renderWebhooks } from './activity.js';
import {
  ApiError,
  enterKey,
  errorText,
  getJson,
  keyDeclined,
  post,
  storeApiKey,
  storedApiKey,
} from './api.js';
import { announce, byId, h, setText, tickTimes, timeAgo, updateTimeAgo } from './dom.js';
import { formatDuration } from './format.js';
import { follow } from './live.js';
import { showRun } from './run-view.js';
import { renderRuns } from './runs.js';
import { renderServices } from './services.js';
import { ended } from './status.js';
import { readQuery, showWorkflow } from './workflow-view.js';
import { renderWorkflows } from './workflows.js';

/** `?refresh=N` sets the polling period in seconds (1..60; default 4) while the stream is down. */
const REFRESH_MS = (() => {
  const seconds = Number(new URLSearchParams(location.search).get('refresh') ?? 4);
  return Number.isFinite(seconds) ? Math.min(60, Math.max(1, seconds)) * 1000 : 4000;
})();
/** Faster while a run goes on, so its steps appear as they finish. */
const BUSY_MS = Math.min(REFRESH_MS, 1500);
const OFFLINE_MS = Math.min(REFRESH_MS, 2000);
const HIDDEN_MS = 30_000;
/** While live, the events drive the refreshes; this catches what sends none (health). */
const LIVE_MS = 30_000;

/** @type {Ui.PageState} */
const state = {
  online: null,
  live: false,
  workflows: [],
  workflowsByKey: new Map(),
  history: [],
  webhooks: null,
  schedules: [],
  running: new Set(),
  messages: new Map(),
  servicesInFlight: false,
};

/** @returns {Ui.Route} */
function currentRoute() {
  const [, kind, id = '', query] =
    /^#\/(runs|workflows)\/([^?]+)\??(.*)$/.exec(location.hash) ?? [];
  try {
    if (kind === 'runs') return { view: 'run', id: decodeURIComponent(id) };
    if (kind)
      return { view: 'workflow', key: decodeURIComponent(id), params: new URLSearchParams(query) };
  } catch {
    // A malformed escape: the overview.
  }
  return { view: 'overview' };
}

let route = currentRoute();

function applyRoute() {
  route = currentRoute();
  const overview = route.view === 'overview';
  const view = byId('view');
  byId('overview').hidden = !overview;
  view.hidden = overview;
  byId('view-error').hidden = true;
  const shows = route.view === 'run' ? route.id : route.view === 'workflow' ? route.key : null;
  if (shows === null) document.title = 'Aegis dashboard';
  else if (view.dataset.shows !== shows) {
    view.replaceChildren(h('p', { class: 'placeholder' }, 'Loading…'));
    delete view.dataset.shows;
    scrollTo(0, 0);
  }
}

const drawWorkflows = () => renderWorkflows(state);

/** @param {string} section @param {unknown} error null hides the section's error line */
function showSectionError(section, error) {
  const element = byId(`${section}-error`);
  element.hidden = error === null;
  if (error !== null) setText(element, `Could not load: ${errorText(error)}`);
}

function drawKeyButtons() {
  const stored = storedApiKey() !== null;
  byId('forget-key').hidden = !stored;
  byId('enter-key').hidden = stored || !keyDeclined();
}

/** The first complete render, as the e2e test measures it. */
function markRendered() {
  if (performance.getEntriesByName('aegis:rendered').length === 0)
    performance.mark('aegis:rendered');
}

const connectionText = byId('connection-text');
const updatedAt = timeAgo(null, true);
let lastSuccess = /** @type {string | null} */ (null);
const OFFLINE_TITLE = 'API unreachable · ';

/** @param {boolean} online */
function setOnline(online) {
  state.online = online;
  document.body.classList.toggle('is-online', online);
  document.body.classList.toggle('is-offline', !online);
  byId('offline-banner').hidden = online;
}

function drawConnection() {
  if (state.online === false) return;
  connectionText.replaceChildren(state.live ? 'Live' : 'Polling', ' · updated ', updatedAt);
  if (lastSuccess) updateTimeAgo(updatedAt, lastSuccess);
}

/** @param {Api.Health} health */
function markOnline(health) {
  const wasOffline = state.online === false;
  setOnline(true);
  lastSuccess = new Date().toISOString();
  setText(byId('version'), `v${health.version}`);
  drawConnection();
  setText(
    byId('summary'),
    `Aegis ${health.version} · up ${formatDuration(health.uptime_seconds * 1000)} · ${state.live ? 'live over the event stream' : `refreshes every ${REFRESH_MS / 1000} s`}`,
  );
  document.title = document.title.replace(OFFLINE_TITLE, '');
  if (wasOffline) announce('The API is reachable again.');
}

/** @param {unknown} error */
function markOffline(error) {
  setOnline(false);
  const why =
    error instanceof ApiError && error.status !== 0 ? `it answered ${error.message}` : 'no answer';
  byId('offline-detail').replaceChildren(
    `Cannot reach the Aegis API at ${location.host} (${why}). `,
    lastSuccess ? h('span', {}, 'Showing data from ', timeAgo(lastSuccess, true), '; ') : '',
    `retrying every ${OFFLINE_MS / 1000} s.`,
  );
  connectionText.replaceChildren('Offline');
  if (!document.title.startsWith(OFFLINE_TITLE)) document.title = OFFLINE_TITLE + document.title;
}

/**
 * A failure shows in `${part}-error` only, an unreachable API in the banner.
 * @template T
 * @param {string} section
 * @param {string} path
 * @param {(value: T) => void} render
 * @param {{ part?: string, timeoutMs?: number }} [options]
 */
async function refreshSection(section, path, render, { part = section, timeoutMs } = {}) {
  try {
    render(/** @type {T} */ (await getJson(path, timeoutMs)));
    showSectionError(part, null);
  } catch (error) {
    if (!(error instanceof ApiError && error.unreachable)) showSectionError(part, error);
  }
  byId(section).setAttribute('aria-busy', 'false');
}

async function refreshServices() {
  if (state.servicesInFlight) return;
  state.servicesInFlight = true;
  // Live checks: a hanging service holds this answer up to its timeout, and nothing else.
  await refreshSection('services', 'api/services', renderServices, { timeoutMs: 20_000 });
  state.servicesInFlight = false;
}

/** The webhooks, then their deliveries, whose empty state says whether any are configured. */
async function refreshWebhooks() {
  await refreshSection('webhooks', 'api/webhooks', (/** @type {Api.Webhook[]} */ hooks) => {
    state.webhooks = hooks;
    renderWebhooks(hooks);
  });
  await refreshSection(
    'webhooks',
    'api/webhooks/deliveries?limit=20',
    (/** @type {Api.Delivery[]} */ d) => renderDeliveries(d, state.webhooks?.length ?? 0),
    { part: 'deliveries' },
  );
}

/** @param {Promise<unknown>} config the workflows, whose names the views show */
async function refreshView(config) {
  const view = byId('view');
  const page = config.then(() => state);
  try {
    if (route.view === 'run') await showRun(view, route.id, page, soon);
    else if (route.view === 'workflow')
      await showWorkflow(view, readQuery(route.key, route.params), page);
    byId('view-error').hidden = true;
    markRendered();
  } catch (error) {
    if (error instanceof ApiError && error.unreachable) return;
    if (view.dataset.shows === undefined) view.replaceChildren(h('a', { href: '#/' }, 'Overview'));
    showSectionError('view', error);
  }
}

/** @param {Promise<Api.Health>} health */
async function healthy(health) {
  try {
    markOnline(await health);
    return true;
  } catch (error) {
    markOffline(error);
    return false;
  }
}

/**
 * Everything shown, fetched at once (while offline, only the health check until it answers).
 * @param {boolean} full with the health check, the services, the workflows and the schedules
 */
async function refreshAll(full) {
  let health = full ? getJson('health', 5000) : null;
  if (health && state.online === false) {
    if (!(await healthy(health))) return;
    health = null;
  }
  const overview = route.view === 'overview';
  if (full && overview) void refreshServices();
  const config = Promise.all([
    full || state.workflows.length === 0
      ? refreshSection('workflows', 'api/workflows', (/** @type {Api.Workflow[]} */ w) => {
          state.workflows = w;
          state.workflowsByKey = new Map(w.map((workflow) => [workflow.key, workflow]));
        })
      : null,
    full &&
      getJson('api/schedules').then(
        (/** @type {Api.Schedule[]} */ s) => {
          state.schedules = s;
        },
        () => {}, // no schedules shown: nothing else depends on them
      ),
  ]);
  /** @param {Api.HistoryRecord[]} runs */
  const setHistory = (runs) => {
    state.history = runs;
  };
  const shown = overview
    ? Promise.all([
        // The runs first: what a person opens the page for.
        Promise.all([config, refreshSection('runs', 'api/history?limit=10', setHistory)]).then(
          () => {
            drawWorkflows();
            renderRuns(state);
            markRendered();
          },
        ),
        refreshSection('events', 'api/events?limit=20', renderEvents),
        refreshWebhooks(),
      ])
    : refreshView(config);
  if (health && !(await healthy(health))) return;
  await shown;
}

let timer = 0;
let ticking = false;
/** A refresh asked for during one: null for none, else whether it is a full one. */
let queued = /** @type {boolean | null} */ (null);

function nextDelay() {
  if (state.online === false) return OFFLINE_MS;
  if (document.hidden) return HIDDEN_MS;
  if (state.live) return LIVE_MS;
  const busy = state.running.size > 0 || state.history.some((r) => !ended(r));
  return busy ? BUSY_MS : REFRESH_MS;
}

/** One at a time: asking during one queues one more. A full one sets the next timer. */
async function tick(full = true) {
  if (ticking) {
    queued = (queued ?? false) || full;
    return;
  }
  ticking = true;
  if (full) clearTimeout(timer);
  try {
    await refreshAll(full);
  } catch (error) {
    console.error('dashboard refresh failed', error);
  } finally {
    ticking = false;
    drawKeyButtons();
    if (full) timer = window.setTimeout(tick, nextDelay());
    if (queued !== null) {
      const again = queued;
      queued = null;
      void tick(again);
    }
  }
}

let soonTimer = 0;
let laterTimer = 0;
/** Now, and once more when the burst of events is over (deliveries). */
function soon() {
  clearTimeout(soonTimer);
  clearTimeout(laterTimer);
  soonTimer = window.setTimeout(() => void tick(false), 100);
  laterTimer = window.setTimeout(() => void tick(false), 2000);
}

/** @param {string} key */
async function run(key) {
  if (state.running.has(key)) return;
  const name = state.workflowsByKey.get(key)?.name ?? key;
  state.running.add(key);
  state.messages.delete(key);
  const redraw = () => (route.view === 'overview' ? drawWorkflows() : void tick(false));
  redraw();
  announce(`Running ${name}…`);
  // The run is recorded as running when it starts: show it without waiting for the end.
  setTimeout(() => void tick(false), 300);
  /** @type {Ui.Message} */
  let message;
  try {
    /** @type {{ success: boolean, duration_ms: number }} */
    const result = await post(
      `api/workflows/${encodeURIComponent(key)}/run`,
      {},
      'Run workflow',
      // The steps have their own timeouts; this only guards against a hung connection.
      15 * 60_000,
    );
    const took = formatDuration(result.duration_ms);
    message = result.success
      ? { tone: 'ok', text: `✓ Passed in ${took}` }
      : { tone: 'fail', text: `✗ Failed in ${took}: see its steps under Recent runs` };
  } catch (error) {
    const noKey = error instanceof ApiError && error.code === 'no_key';
    message = {
      tone: 'fail',
      text: noKey
        ? 'Not run: this Aegis needs an API key to run workflows.'
        : `✗ Could not run: ${errorText(error)}`,
    };
  }
  state.running.delete(key);
  drawKeyButtons();
  state.messages.set(key, message);
  announce(`${name}: ${message.text.replace(/^[✓✗] /, '')}`);
  if (message.tone === 'ok')
    setTimeout(() => {
      if (state.messages.get(key) !== message) return;
      state.messages.delete(key);
      redraw();
    }, 8000);
  redraw();
  void tick(false);
}

document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.run-button') : null;
  if (!(button instanceof HTMLElement) || button.getAttribute('aria-disabled') === 'true') return;
  const key = button.dataset.workflow;
  if (key) void run(key);
});

byId('forget-key').addEventListener('click', () => {
  storeApiKey(null);
  drawKeyButtons();
  announce('The API key was forgotten; the next call that needs one asks for it again.');
});

byId('enter-key').addEventListener('click', async () => {
  if (await enterKey()) void tick();
  drawKeyButtons();
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void tick();
});

addEventListener('hashchange', () => {
  // In-page anchors (the skip link) are not routes.
  if (location.hash !== '' && !location.hash.startsWith('#/')) return;
  applyRoute();
  void tick();
});

follow(soon, (live) => {
  if (live === state.live) return;
  state.live = live;
  drawConnection();
  // Dropped: poll from now on, and look at once (the host may be gone).
  if (!live) void tick();
});

applyRoute();
initActivity(soon);
drawKeyButtons();
setInterval(() => tickTimes(), 1000);
void tick();
