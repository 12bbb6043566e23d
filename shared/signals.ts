import type { RunResult } from './workflow/types.ts';

/** What one part of a process tells the others, without knowing who listens. */
export interface SignalMap {
  /** A run was queued here: a worker of this process may claim it now instead of at its next poll. */
  runQueued: [runId: string];
  /** A run this process executed has ended. */
  runEnded: [result: RunResult];
  /** A cancel was asked for here: the run, if this process executes it, stops at once. */
  cancelRequested: [runId: string, reason: string];
  /** Events were stored (the event stream looks for them now rather than at its next poll). */
  eventsStored: [runId: string];
  /** Webhook deliveries were queued (the webhook worker sends them now). */
  deliveriesQueued: [runId: string];
  /** The host is stopping: long-lived answers (event streams) end now. */
  shuttingDown: [];
}

type Listener<K extends keyof SignalMap> = (...args: SignalMap[K]) => void;
/** Listeners are kept untyped and typed again on the way out, by the name they were added under. */
type AnyListener = (...args: unknown[]) => void;

/**
 * A small typed notifier for the wake-ups within one process (the host's
 * webhook worker, its run workers, the event stream). Across processes the
 * database is the signal: each loop also polls it.
 */
export class Signals {
  readonly #listeners = new Map<keyof SignalMap, Set<AnyListener>>();

  /** Listens until the returned function is called. */
  on<K extends keyof SignalMap>(name: K, listener: Listener<K>): () => void {
    const set = this.#listeners.get(name) ?? new Set<AnyListener>();
    this.#listeners.set(name, set);
    const stored = listener as AnyListener;
    set.add(stored);
    return () => void set.delete(stored);
  }

  /** A listener that throws is not the emitter's problem: it is ignored. */
  emit<K extends keyof SignalMap>(name: K, ...args: SignalMap[K]): void {
    const set = this.#listeners.get(name) as Set<Listener<K>> | undefined;
    if (!set) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch {
        // A wake-up is a hint; the database stays the source of truth.
      }
    }
  }
}
