import { randomUUID } from 'node:crypto';
import type { OnInterrupt } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Signals } from '../signals.ts';
import { runStop } from '../workflow/types.ts';
import type { RunQueue } from './run-queue.ts';

/** SPEC §11: `AEGIS_RUN_LEASE_S` defaults to 30. */
export const DEFAULT_LEASE_MS = 30_000;
/** Cancel requests from other processes are looked for this often, so a run stops within a second. */
export const DEFAULT_CANCEL_POLL_MS = 250;

export interface LeaseKeeperOptions {
  queue: () => Promise<RunQueue>;
  signals: Signals;
  logger: Logger;
  leaseMs?: number;
  cancelPollMs?: number;
  /** This process's name on the runs it claims. */
  owner?: string;
}

interface TrackedRun {
  controller: AbortController;
  onInterrupt: OnInterrupt;
}

/**
 * Holds the leases of the runs this process executes: renews them (every
 * third of a lease), and stops a run — through the AbortSignal its executor
 * runs under — when a cancel is asked for (here, or by another process
 * through the database), when its lease was lost to another process, or
 * when the host shuts down.
 */
export class LeaseKeeper {
  readonly owner: string;
  readonly leaseMs: number;
  readonly #options: LeaseKeeperOptions;
  readonly #runs = new Map<string, TrackedRun>();
  readonly #cancelPollMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** When the leases were last renewed (or the first run was tracked). */
  #renewedAt = 0;
  readonly #unsubscribe: () => void;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.owner = options.owner ?? `aegis-${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#cancelPollMs = Math.min(options.cancelPollMs ?? DEFAULT_CANCEL_POLL_MS, this.leaseMs / 3);
    this.#unsubscribe = options.signals.on('cancelRequested', (runId, reason) =>
      this.#stop(runId, runStop('cancelled', reason)),
    );
  }

  /** Starts keeping a run just claimed for `leaseMs`; its executor runs under the returned signal. */
  track(runId: string, onInterrupt: OnInterrupt): AbortSignal {
    const controller = new AbortController();
    if (this.#runs.size === 0) this.#renewedAt = Date.now();
    this.#runs.set(runId, { controller, onInterrupt });
    this.#schedule();
    return controller.signal;
  }

  release(runId: string): void {
    this.#runs.delete(runId);
    if (this.#runs.size === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** The runs this process executes now. */
  get running(): number {
    return this.#runs.size;
  }

  /**
   * A host shutting down stops what still runs: `interrupted` (and requeued)
   * for workflows with `on_interrupt: requeue`, else `cancelled`.
   */
  stopAll(reason: string): void {
    for (const [runId, run] of this.#runs)
      this.#stop(
        runId,
        runStop(run.onInterrupt === 'requeue' ? 'interrupted' : 'cancelled', reason),
      );
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe();
  }

  #stop(runId: string, stop: ReturnType<typeof runStop>): void {
    const run = this.#runs.get(runId);
    if (run && !run.controller.signal.aborted) run.controller.abort(stop);
  }

  #schedule(): void {
    if (this.#timer || this.#runs.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tick().finally(() => this.#schedule());
    }, this.#cancelPollMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    try {
      const queue = await this.#options.queue();
      if (now - this.#renewedAt >= this.leaseMs / 3) {
        const { held, cancelRequests } = await queue.renew({
          owner: this.owner,
          leaseMs: this.leaseMs,
          now,
        });
        this.#renewedAt = now;
        for (const runId of this.#runs.keys())
          if (!held.has(runId))
            this.#stop(runId, runStop('interrupted', 'lease lost to another process', false));
        for (const [runId, reason] of cancelRequests)
          this.#stop(runId, runStop('cancelled', reason));
      } else {
        for (const [runId, reason] of await queue.cancelRequests(this.owner))
          this.#stop(runId, runStop('cancelled', reason));
      }
    } catch (error) {
      this.#options.logger.warn('renewing run leases failed; trying again', {
        error: errorMessage(error),
      });
      // Past its lease another process may take the run over: stop rather than run it twice.
      if (now - this.#renewedAt >= this.leaseMs)
        for (const runId of this.#runs.keys())
          this.#stop(
            runId,
            runStop('interrupted', 'lease lost: the database was unreachable', false),
          );
    }
  }
}
