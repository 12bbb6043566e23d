import { timerDelay } from './time.ts';

/** A call's own signal, tied to a deadline and to a longer-lived signal (a shutdown, a cancel). */
export interface CallSignal {
  signal: AbortSignal;
  /** The deadline, not `outer`, aborted it. */
  timedOut(): boolean;
  /** Ends the tie: clears the timer and leaves `outer` as it was. Call it when the call is over. */
  done(): void;
}

/**
 * A signal aborted with `timeoutReason()` after `timeoutMs`, or with
 * `outer`'s reason when that aborts first. Not `AbortSignal.any([timeout,
 * outer])`: on Node 20 a long-lived `outer` keeps a WeakRef for every signal
 * ever made from it (heap snapshots: +1.1 MB per 5,000 runs of 7 webhook
 * deliveries); here `done()` takes the listener off again.
 */
export function callSignal(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  timeoutReason: () => unknown,
): CallSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(timeoutReason());
  }, timerDelay(timeoutMs));
  const stop = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', stop, { once: true });
  if (outer?.aborted) stop();
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', stop);
    },
  };
}
