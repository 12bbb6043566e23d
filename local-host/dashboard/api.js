// Talking to the Aegis API: same origin, JSON, {error, message} on failure, and the tab's API key.

import { announce, byId, setText } from './dom.js';

/** This tab only, never localStorage (it would outlive the session). */
const KEY_STORAGE = 'aegis.apiKey';

export class ApiError extends Error {
  /**
   * @param {number} status 0 when the API could not be reached
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  get unreachable() {
    return this.status === 0;
  }
}

/** @returns {string | null} */
export function storedApiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null; // storage disabled: the key is asked for each time
  }
}

/** @param {string | null} key */
export function storeApiKey(key) {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // storage disabled
  }
}

/** @returns {Record<string, string>} */
export function keyHeader() {
  const key = storedApiKey();
  return key ? { 'X-API-Key': key } : {};
}

/** @param {string} path @param {RequestInit & { timeoutMs?: number }} [init] */
async function request(path, { timeoutMs = 10_000, ...init } = {}) {
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, {
      ...init,
      cache: 'no-store',
      headers: { Accept: 'application/json', ...keyHeader(), ...init.headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    throw new ApiError(
      0,
      timedOut ? 'timeout' : 'network',
      timedOut ? `no answer within ${timeoutMs / 1000} s` : 'the API could not be reached',
    );
  }
  /** @type {unknown} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): the status still tells what happened.
  }
  if (response.ok) return body;
  const error = /** @type {{ error?: unknown, message?: unknown } | null} */ (body);
  throw new ApiError(
    response.status,
    typeof error?.error === 'string' ? error.error : `http_${response.status}`,
    typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`,
  );
}

const keyDialog = /** @type {HTMLDialogElement} */ (byId('key-dialog'));
const keyInput = /** @type {HTMLInputElement} */ (byId('key-input'));
let keyPrompt = /** @type {Promise<string | null> | null} */ (null);
/** Dismissed when a read asked: reads stop asking until "Enter API key". */
let readsDeclined = false;

/**
 * Null when the person cancels; concurrent asks share one dialog.
 * @param {string | null} problem shown above the field (a rejected key, say)
 * @param {string} action
 * @returns {Promise<string | null>}
 */
function askForKey(problem, action) {
  keyPrompt ??= new Promise((resolve) => {
    const error = byId('key-error');
    setText(error, problem ?? '');
    error.hidden = !problem;
    setText(byId('key-submit'), action);
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

/**
 * A 401 asks for a key and tries again; a read (no `action`) stops asking once dismissed.
 * @param {string} path
 * @param {RequestInit & { timeoutMs?: number }} init
 * @param {string} [action]
 */
async function withKey(path, init, action) {
  for (;;) {
    try {
      return await request(path, init);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401) || (!action && readsDeclined))
        throw error;
      const sent = storedApiKey();
      storeApiKey(null);
      const key = await askForKey(
        sent ? 'That API key was not accepted. Check it and try again.' : null,
        action ?? 'Show the dashboard',
      );
      if (key === null) {
        if (!action) readsDeclined = true;
        throw new ApiError(401, 'no_key', 'this Aegis needs an API key for that');
      }
      storeApiKey(key);
    }
  }
}

export const keyDeclined = () => readsDeclined;

// A type=button, so that Enter in the field submits the key rather than cancelling.
byId('key-cancel').addEventListener('click', () => keyDialog.close('cancel'));

/** "Enter API key": asks now, and lets reads ask again. */
export async function enterKey() {
  readsDeclined = false;
  const key = await askForKey(null, 'Use this key');
  if (key !== null) storeApiKey(key);
  return key !== null;
}

/**
 * The answer is trusted to have the documented shape.
 * @template T
 * @param {string} path
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
export function getJson(path, timeoutMs) {
  return /** @type {Promise<T>} */ (withKey(path, { timeoutMs }));
}

/**
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @param {string} action what the key dialog's button says ("Run workflow")
 * @returns {Promise<T>}
 */
export function post(path, body, action, timeoutMs = 10_000) {
  const init = {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs,
  };
  return /** @type {Promise<T>} */ (withKey(path, init, action));
}

/** For a person: a 403 says which scope the key lacks and what to do. @param {unknown} error */
export function errorText(error) {
  if (!(error instanceof ApiError)) return String(error instanceof Error ? error.message : error);
  if (error.unreachable) return 'the API could not be reached';
  if (error.status === 403)
    return `not allowed: ${error.message}. Forget the API key (at the bottom) and enter one that has it`;
  return error.message;
}

/**
 * A button that POSTs: busy meanwhile; the outcome is said to screen readers.
 * @template T
 * @param {HTMLElement} button its text names the action, in the key dialog and the outcome
 * @param {string} path
 * @param {unknown} body
 * @param {(result: T) => string} done
 * @returns {Promise<Ui.Outcome<T>>}
 */
export async function act(button, path, body, done) {
  const action = button.textContent ?? 'Continue';
  button.setAttribute('aria-busy', 'true');
  /** @type {Ui.Outcome<T>} */
  let outcome;
  try {
    const result = /** @type {T} */ (await post(path, body, action));
    outcome = { tone: 'ok', text: `✓ ${done(result)}`, result };
  } catch (error) {
    outcome = { tone: 'fail', text: `✗ ${action}: ${errorText(error)}` };
  }
  button.removeAttribute('aria-busy');
  announce(outcome.text);
  return outcome;
}

/**
 * @param {HTMLElement} element
 * @param {Ui.Message | null | undefined} outcome
 */
export function showOutcome(element, outcome) {
  setText(element, outcome?.text ?? '');
  if (outcome) element.dataset.tone = outcome.tone;
  element.hidden = !outcome;
}
