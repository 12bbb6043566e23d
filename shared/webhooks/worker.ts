import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { type DrainOptions, drainDue } from './drain.ts';
import type { WebhookOutbox } from './outbox.ts';

export interface WorkerOptions extends Omit<DrainOptions, 'outbox' | 'signal' | 'runId'> {
  outbox: () => Promise<WebhookOutbox>;
  logger: Logger;
  /** The longest sleep between looks at the outbox, to see what other processes queued. */
  idleIntervalMs?: number;
}

/**
 * The host's in-process webhook worker: it drains due deliveries when woken
 * (a run queued some), then sleeps until the next retry is due, looking again
 * at least every `idleIntervalMs`.
 */
export class DeliveryWorker {
  readonly #options: WorkerOptions;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  /** The drain under way, if any; `stop` waits for it. */
  #running: Promise<void> | undefined;
  /** A wake-up arrived during a drain: drain again when it ends. */
  #wokenWhileRunning = false;

  constructor(options: WorkerOptions) {
    this.#options = options;
  }

  start(): void {
    this.wake();
  }

  wake(): void {
    if (this.#abort.signal.aborted) return;
    if (this.#running) {
      this.#wokenWhileRunning = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#wokenWhileRunning) {
        this.#wokenWhileRunning = false;
        this.wake();
      }
    });
  }

  /** Stops taking work; an attempt in flight is cut short and recorded as one to retry. */
  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #drain(): Promise<void> {
    const { idleIntervalMs = 30_000, now = Date.now } = this.#options;
    let sleepMs = idleIntervalMs;
    try {
      const outbox = await this.#options.outbox();
      await drainDue({ ...this.#options, outbox, signal: this.#abort.signal });
      const due = await outbox.nextDueAt();
      if (due !== null) sleepMs = Math.min(Math.max(due - now(), 10), idleIntervalMs);
    } catch (error) {
      this.#options.logger.error('webhook worker failed; trying again later', {
        error: errorMessage(error),
      });
    }
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => this.wake(), sleepMs);
    this.#timer.unref();
  }
}
