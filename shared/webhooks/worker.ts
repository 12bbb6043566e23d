import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { type DrainOptions, drainDue } from './drain.ts';
import type { WebhookOutbox } from './outbox.ts';

/** Wake-ups this close together share one drain: a run queues its deliveries one event at a time, a few ms apart. */
const GATHER_MS = 20;

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
  /** Cuts off attempts in flight when the stop's grace period ends. */
  readonly #abort = new AbortController();
  /** Set by `stop`: no new batches are taken. */
  #stopping = false;
  /** The sleep until the next retry is due. */
  #timer: NodeJS.Timeout | undefined;
  /** A drain about to start, gathering the wake-ups that come meanwhile. */
  #gathering: NodeJS.Timeout | undefined;
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
    if (this.#stopping || this.#gathering) return;
    if (this.#running) {
      this.#wokenWhileRunning = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#gathering = setTimeout(() => {
      this.#gathering = undefined;
      this.#run();
    }, GATHER_MS);
  }

  #run(): void {
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#wokenWhileRunning) {
        this.#wokenWhileRunning = false;
        this.wake();
      }
    });
  }

  /**
   * Stops taking work and lets attempts in flight finish for up to `graceMs`;
   * then cuts them short (recorded as due again, so nothing is lost).
   */
  async stop({ graceMs = 5_000 } = {}): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#gathering);
    const running = this.#running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([running, graceOver]);
    clearTimeout(timer);
    this.#abort.abort();
    await running;
  }

  async #drain(): Promise<void> {
    const { idleIntervalMs = 30_000, now = Date.now } = this.#options;
    let sleepMs = idleIntervalMs;
    try {
      const outbox = await this.#options.outbox();
      await drainDue({
        ...this.#options,
        outbox,
        signal: this.#abort.signal,
        keepGoing: () => !this.#stopping,
      });
      const due = await outbox.nextDueAt();
      if (due !== null) sleepMs = Math.min(Math.max(due - now(), 10), idleIntervalMs);
    } catch (error) {
      this.#options.logger.error('webhook worker failed; trying again later', {
        error: errorMessage(error),
      });
    }
    if (this.#stopping) return;
    this.#timer = setTimeout(() => this.wake(), sleepMs);
    this.#timer.unref();
  }
}
