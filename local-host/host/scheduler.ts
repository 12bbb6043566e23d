import { errorMessage } from '#shared/errors.ts';
import type { Logger } from '#shared/logger.ts';
import { type FireOptions, fireTick } from '#shared/schedules/fire.ts';
import { ScheduleTicks } from '#shared/schedules/tick-store.ts';
import type { Tick, WorkflowSchedule } from '#shared/schedules/workflow-schedule.ts';
import { timerDelay } from '#shared/time.ts';

/** The longest sleep: the wall clock may be set meanwhile, and the next tick is recomputed after it. */
const MAX_SLEEP_MS = 60_000;
/** A tick the database could not take is tried again this often… */
const RETRY_MS = 1_000;
/** …for this long after its instant; then it is given up (as a tick missed while no host ran). */
const RETRY_WINDOW_MS = 30_000;

export interface SchedulerOptions extends FireOptions {
  schedules: readonly WorkflowSchedule[];
  logger: Logger;
  /** The clock (tests move it). */
  now?: () => number;
  maxSleepMs?: number;
}

/**
 * The host's schedule loop (SPEC §12): sleeps until the next tick of any
 * workflow (at most a minute), then queues that tick's run with `trigger:
 * schedule`. Every host runs one; the tick's row in the database lets one of
 * them queue it. At start, ticks missed while no host ran are skipped, but
 * for `catch_up: true`, which queues one run for the latest of them (if a
 * tick was ever claimed before it).
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #now: () => number;
  /** Per workflow, the instant up to which its ticks have been fired (or given up). */
  readonly #firedUpTo = new Map<string, number>();
  /** Workflows whose due tick the database did not take: tried again a second later. */
  readonly #retrying = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #working: Promise<void> | undefined;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Starts the loop (nothing to do without schedules): catches up first,
   * then queues each tick on time. Resolves once the catch-up is done.
   */
  start(): Promise<void> {
    if (this.#options.schedules.length === 0) return Promise.resolve();
    const startedAt = this.#now();
    for (const schedule of this.#options.schedules)
      this.#firedUpTo.set(schedule.workflow, startedAt);
    const caughtUp = this.#catchUp(startedAt).finally(() => {
      this.#working = undefined;
      this.#arm();
    });
    this.#working = caughtUp;
    return caughtUp;
  }

  /** Stops queueing ticks; waits for a tick being queued to be recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#working;
  }

  async #catchUp(startedAt: number): Promise<void> {
    const ticks = new ScheduleTicks(this.#options.db);
    await Promise.all(
      this.#options.schedules
        .filter((schedule) => schedule.catchUp)
        .map(async (schedule) => {
          try {
            const last = await ticks.lastTickAt(schedule.workflow);
            const missed = last === null ? null : schedule.due(last, startedAt);
            if (missed) await this.#fire(schedule, missed);
          } catch (error) {
            this.#options.logger.warn('catching up a missed schedule tick failed', {
              workflow: schedule.workflow,
              error: errorMessage(error),
            });
          }
        }),
    );
  }

  /** Sleeps until the earliest next tick (or a retry, or the cap). */
  #arm(): void {
    if (this.#stopped) return;
    const now = this.#now();
    let wakeAt = now + (this.#options.maxSleepMs ?? MAX_SLEEP_MS);
    if (this.#retrying.size > 0) wakeAt = Math.min(wakeAt, now + RETRY_MS);
    for (const schedule of this.#options.schedules) {
      const next = schedule.next(now);
      if (next) wakeAt = Math.min(wakeAt, next.at);
    }
    this.#timer = setTimeout(() => this.#wake(), timerDelay(Math.max(0, wakeAt - now)));
    this.#timer.unref();
  }

  #wake(): void {
    this.#working = this.#fireDue().finally(() => {
      this.#working = undefined;
      this.#arm();
    });
  }

  /** Fires, for each workflow, the latest tick since the last wake that is due now (a timer that woke early fires none). */
  async #fireDue(): Promise<void> {
    const now = this.#now();
    await Promise.all(
      this.#options.schedules.map(async (schedule) => {
        const upTo = this.#firedUpTo.get(schedule.workflow) ?? now;
        const tick = schedule.due(upTo, now);
        if (!tick) {
          this.#firedUpTo.set(schedule.workflow, Math.max(upTo, now));
          return;
        }
        try {
          await this.#fire(schedule, tick);
          this.#firedUpTo.set(schedule.workflow, now);
          this.#retrying.delete(schedule.workflow);
        } catch (error) {
          const givingUp = now - tick.at >= RETRY_WINDOW_MS;
          this.#options.logger[givingUp ? 'error' : 'warn'](
            givingUp
              ? 'queueing a schedule tick failed; giving it up'
              : 'queueing a schedule tick failed; trying again',
            {
              workflow: schedule.workflow,
              tick_at: new Date(tick.at).toISOString(),
              error: errorMessage(error),
            },
          );
          // Left just before the tick, it is due again at the next wake, a second from now.
          this.#firedUpTo.set(schedule.workflow, givingUp ? now : tick.at - 1);
          if (givingUp) this.#retrying.delete(schedule.workflow);
          else this.#retrying.add(schedule.workflow);
        }
      }),
    );
  }

  async #fire(schedule: WorkflowSchedule, tick: Tick): Promise<void> {
    if (this.#stopped) return;
    await fireTick(this.#options, schedule.workflow, tick);
  }
}
