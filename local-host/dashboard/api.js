// Talking to the Aegis API: same origin, JSON, {error, message} on failure.

/** Where the API key lives: this tab only, never localStorage (it would outlive the session). */
const KEY_STORAGE = 'aegis.apiKey';

/** A failed call: `status` is 0 when the API could not be reached at all (network, timeout). */
export class ApiError extends Error {
  /**
   * @param {number} status
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

/**
 * @param {string} path
 * @param {RequestInit & { timeoutMs?: number }} [init]
 * @returns {Promise<unknown>}
 */
async function request(path, { timeoutMs = 10_000, ...init } = {}) {
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, {
      ...init,
      cache: 'no-store',
      headers: { Accept: 'application/json', ...init.headers },
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
    // Not JSON: a proxy's error page, say. The status still tells what happened.
  }
  if (response.ok) return body;
  const error = /** @type {{ error?: unknown, message?: unknown } | null} */ (body);
  throw new ApiError(
    response.status,
    typeof error?.error === 'string' ? error.error : `http_${response.status}`,
    typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`,
  );
}

/**
 * GET a path; its answer is trusted to have the documented shape.
 * @template T
 * @param {string} path
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
export function getJson(path, timeoutMs) {
  return /** @type {Promise<T>} */ (request(path, timeoutMs ? { timeoutMs } : {}));
}

/** @returns {string | null} */
export function storedApiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null; // storage disabled: the key is asked for on each run
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

/**
 * Runs a workflow; the answer comes when the run has finished (it can take seconds).
 * @param {string} key
 * @param {string | null} apiKey
 * @returns {Promise<{ run_id: string, workflow_name: string, success: boolean, duration_ms: number }>}
 */
export async function runWorkflow(key, apiKey) {
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json' };
  if (apiKey) headers['X-API-Key'] = apiKey;
  const result = await request(`api/workflows/${encodeURIComponent(key)}/run`, {
    method: 'POST',
    headers,
    body: '{}',
    // A workflow's steps have their own timeouts; this only guards against a hung connection.
    timeoutMs: 15 * 60_000,
  });
  return /** @type {{ run_id: string, workflow_name: string, success: boolean, duration_ms: number }} */ (
    result
  );
}
