/** Durations as Aegis reports them: milliseconds with two decimals. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Node fires a longer timer at once (TimeoutOverflowWarning), so a huge delay would mean "immediately". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay in milliseconds that a timer (setTimeout, AbortSignal.timeout) honours as written, capped where Node would not. */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
