import { errorMessage } from '#shared/errors.ts';
import type { Logger } from '#shared/logger.ts';
import type { LeaseKeeper } from '#shared/runs/lease-keeper.ts';
import type { RunService } from '#shared/runs/run-service.ts';
import type { Signals } from '#shared/signals.ts';

/** SPEC §11: `AEGIS_RUN_WORKERS` defaults to 4. */
export const DEFAULT_RUN_WORKERS = 4;

export interface RunWorkersOptions {
  runs: RunService;
  leases: LeaseKeeper;
  signals: Signals;
  logger: Logger;
  /** How many runs this host executes at once; 0: none (an API-only host). */
  size: number;
  /** How often the queue is looked at for runs other processes queued. */
  pollMs?: number;
  /** How often lost workers and queue timeouts are reconciled. */
  reconcileMs?: number;
}

/**
 * The host's run workers: claim the oldest queued runs (as soon as a run is
 * queued here, and on a poll for those queued elsewhere), execute up to
 * `size` at once, and reconcile the queue on a timer, so that a run whose
 * process died is marked `interrupted` without a restart.
 */
export class RunWorkers {
  readonly #options: RunWorkersOptions;
  readonly #executions = new Set<Promise<unknown>>();
  #stopping = false;
  #pumping = false;
  #pumpAgain = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: RunWorkersOptions) {
    this.#options = options;
  }

  get running(): number {
    return this.#executions.size;
  }

  start(): void {
    const { pollMs = 500, reconcileMs = 1_000, size, signals } = this.#options;
    if (size > 0) {
      this.#unsubscribe = signals.on('runQueued', () => void this.#pump());
      this.#pollTimer = setInterval(() => void this.#pump(), pollMs);
      this.#pollTimer.unref();
      void this.#pump();
    }
    this.#reconcileTimer = setInterval(() => {
      this.#reconciling ??= this.#options.runs
        .reconcile()
        .catch((error: unknown) =>
          this.#options.logger.warn('reconciling the run queue failed; trying again', {
            error: errorMessage(error),
          }),
        )
        .finally(() => {
          this.#reconciling = undefined;
        });
    }, reconcileMs);
    this.#reconcileTimer.unref();
  }

  /**
   * Stops claiming; gives the runs going on up to `graceMs` to finish, then
   * stops them (`cancelled`, or `interrupted` and requeued for workflows with
   * `on_interrupt: requeue`) and waits for their records. Queued runs stay
   * queued for the next host.
   */
  async stop({ graceMs }: { graceMs: number }): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    clearInterval(this.#pollTimer);
    clearInterval(this.#reconcileTimer);
    await this.#reconciling;
    if (this.#executions.size === 0) return;
    this.#options.logger.info('waiting for running runs to finish', {
      runs: this.#executions.size,
      grace_s: graceMs / 1000,
    });
    if (!(await settledWithin([...this.#executions], graceMs))) {
      this.#options.logger.warn('stopping the runs still going: the host is shutting down', {
        runs: this.#executions.size,
      });
      this.#options.leases.stopAll('host shutting down');
      await settledWithin([...this.#executions], 5_000);
    }
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        while (!this.#stopping && this.#executions.size < this.#options.size) {
          if (!(await this.#options.runs.hasQueued())) break;
          const claim = await this.#options.runs.claimNext();
          if (!claim || this.#stopping) break;
          const execution: Promise<unknown> = this.#options.runs
            .executeClaimed(claim)
            .catch((error: unknown) =>
              this.#options.logger.error('executing a run failed', {
                run_id: claim.runId,
                error: errorMessage(error),
              }),
            )
            .finally(() => {
              this.#executions.delete(execution);
              if (!this.#stopping) void this.#pump();
            });
          this.#executions.add(execution);
        }
      } while (this.#pumpAgain && !this.#stopping);
    } catch (error) {
      this.#options.logger.warn('claiming queued runs failed; trying again at the next poll', {
        error: errorMessage(error),
      });
    } finally {
      this.#pumping = false;
    }
  }
}

/** Whether every promise settled within `ms`. */
async function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
