import type { AttemptOutcome } from './outbox.ts';

/**
 * Waits after each failed attempt before the next (about 5 s, 30 s, 2 min,
 * 10 min, 30 min, 1 h): seven attempts over about an hour and three quarters,
 * the fifth after about 12 minutes, as SPEC §5 asks (≥ 5 attempts over ≥ 10 minutes).
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000,
];

/** ±20 %, so that receivers coming back up are not hit by every sender at once. */
const JITTER = 0.2;
/** A `Retry-After` longer than this is capped, so a delivery is not parked for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** What one HTTP attempt produced. */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

export interface RetryPolicy {
  delaysMs: readonly number[];
  random?: () => number;
}

function retryable(statusCode: number | null): boolean {
  if (statusCode === null) return true; // network error or timeout
  if (statusCode === 410) return false;
  if (statusCode === 429) return true;
  return statusCode < 400 || statusCode >= 500; // 3xx (not followed) and 5xx; other 4xx stop
}

/**
 * Standard Webhooks semantics: 2xx delivered; network errors, 3xx, 429 and 5xx
 * retried with backoff and jitter, honouring `Retry-After`; 410 and other 4xx
 * stop; an exhausted delivery is failed.
 */
export function decideOutcome(
  result: AttemptResult,
  attemptsBefore: number,
  now: number,
  { delaysMs, random = Math.random }: RetryPolicy,
): AttemptOutcome {
  const { statusCode } = result;
  if (statusCode !== null && statusCode >= 200 && statusCode < 300)
    return { kind: 'delivered', statusCode };
  const error = result.error ?? `HTTP ${statusCode}`;
  const delay = delaysMs[attemptsBefore];
  if (!retryable(statusCode))
    return { kind: 'failed', statusCode, error: `${error} (not retried)` };
  if (delay === undefined)
    return {
      kind: 'failed',
      statusCode,
      error: `${error} (gave up after ${attemptsBefore + 1} attempts)`,
    };
  const wait =
    result.retryAfterMs !== null
      ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS)
      : Math.round(delay * (1 - JITTER + 2 * JITTER * random()));
  return { kind: 'retry', statusCode, error, nextAttemptAt: now + wait };
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
