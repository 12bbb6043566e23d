import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_DELAYS_MS, decideOutcome, parseRetryAfter } from './retry-policy.ts';

const NOW = 1_700_000_000_000;
const policy = { delaysMs: DEFAULT_RETRY_DELAYS_MS, random: () => 0.5 };
const answer = (
  statusCode: number | null,
  error: string | null = null,
  retryAfterMs: number | null = null,
) => ({ statusCode, error, retryAfterMs });

describe('webhook retry policy', () => {
  it.each([200, 201, 204, 299])('treats %i as delivered', (status) => {
    expect(decideOutcome(answer(status), 0, NOW, policy)).toEqual({
      kind: 'delivered',
      statusCode: status,
    });
  });

  it.each([
    [null, 'connection refused'],
    [500, null],
    [503, null],
    [429, null],
    [302, 'HTTP 302 redirect (not followed)'],
  ])('retries %s', (status, error) => {
    const outcome = decideOutcome(answer(status, error), 0, NOW, policy);
    expect(outcome).toMatchObject({
      kind: 'retry',
      statusCode: status,
      nextAttemptAt: NOW + 5_000,
    });
  });

  it.each([400, 401, 404, 410, 422])('stops on %i', (status) => {
    expect(decideOutcome(answer(status), 0, NOW, policy)).toMatchObject({
      kind: 'failed',
      error: `HTTP ${status} (not retried)`,
    });
  });

  it('makes the first retry within about 5 s and at least 5 attempts over at least 10 minutes', () => {
    const delays = DEFAULT_RETRY_DELAYS_MS;
    expect(delays[0]).toBeLessThanOrEqual(6_000);
    expect(delays.length + 1).toBeGreaterThanOrEqual(5);
    const beforeFifthAttempt = delays.slice(0, 4).reduce((a, b) => a + b, 0);
    expect(beforeFifthAttempt * 0.8).toBeGreaterThanOrEqual(10 * 60_000); // even with the most jitter
  });

  it('spreads retries with ±20 % jitter', () => {
    const low = decideOutcome(answer(503), 1, NOW, {
      delaysMs: DEFAULT_RETRY_DELAYS_MS,
      random: () => 0,
    });
    const high = decideOutcome(answer(503), 1, NOW, {
      delaysMs: DEFAULT_RETRY_DELAYS_MS,
      random: () => 1,
    });
    expect(low).toMatchObject({ nextAttemptAt: NOW + 24_000 });
    expect(high).toMatchObject({ nextAttemptAt: NOW + 36_000 });
  });

  it('honours Retry-After, capped at an hour', () => {
    expect(decideOutcome(answer(429, null, 90_000), 0, NOW, policy)).toMatchObject({
      kind: 'retry',
      nextAttemptAt: NOW + 90_000,
    });
    expect(decideOutcome(answer(503, null, 86_400_000), 0, NOW, policy)).toMatchObject({
      nextAttemptAt: NOW + 3_600_000,
    });
  });

  it('fails a delivery once its attempts are used up', () => {
    const outcome = decideOutcome(answer(503), DEFAULT_RETRY_DELAYS_MS.length, NOW, policy);
    expect(outcome).toEqual({
      kind: 'failed',
      statusCode: 503,
      error: `HTTP 503 (gave up after ${DEFAULT_RETRY_DELAYS_MS.length + 1} attempts)`,
    });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW)).toBe(30_000);
    expect(parseRetryAfter('soon', NOW)).toBeNull();
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('-5', NOW)).toBe(0);
  });
});
