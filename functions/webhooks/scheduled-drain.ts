import type { AegisContext } from '#shared/context.ts';
import { ENV, readInteger } from '#shared/env.ts';
import { errorMessage } from '#shared/errors.ts';
import type { LambdaContext } from '#shared/http-api/lambda.ts';
import { fireDueTicks } from '#shared/schedules/fire.ts';
import { schedulesOf } from '#shared/schedules/workflow-schedule.ts';
import { type DrainSummary, drainDue } from '#shared/webhooks/drain.ts';
import { DELIVERY_TIMEOUT_MS } from '#shared/webhooks/send.ts';

/** Room left at the end of an invocation for the last attempts (10 s each) to finish and be recorded. */
const FINISH_MARGIN_MS = DELIVERY_TIMEOUT_MS + 5_000;
/** SPEC §11: the drain claims queued runs until 30 s before the function's timeout. */
const RUN_CLAIM_MARGIN_MS = 30_000;
/** When Lambda does not say how long is left (a local invoke), stop taking work after this long. */
const DEFAULT_BUDGET_MS = 45_000;
const DEFAULT_RUN_WORKERS = 4;
/**
 * A tick is fired by the first drain after it, a minute later at most (the
 * schedule's rate); one older than this was missed while no drain ran, and is
 * skipped unless its workflow says `catch_up: true`.
 */
export const DRAIN_TICK_WINDOW_MS = 2 * 60_000;

export interface ScheduledDrainSummary {
  webhooks: DrainSummary & { pending: number };
  runs: { executed: number; failed: number };
  /** Schedule ticks whose run this drain queued (and then executed with the others). */
  schedules: { queued: number };
}

/**
 * The scheduled entry point (every minute on Lambda): reconciles the run
 * queue (lost workers, queue timeouts), queues the runs of schedule ticks
 * that are due, executes queued runs while there is time, and sends the
 * webhook deliveries that are due; what is left waits for the next tick. A
 * function leaves nothing running when it returns.
 */
export async function drainOnSchedule(
  context: AegisContext,
  lambdaContext: LambdaContext = {},
): Promise<ScheduledDrainSummary> {
  const stores = await context.stores();
  const runs = await context.runs();
  const remaining =
    lambdaContext.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS + RUN_CLAIM_MARGIN_MS;
  const started = Date.now();
  const claimUntil = started + Math.max(0, remaining - RUN_CLAIM_MARGIN_MS);
  const sendUntil = started + Math.max(0, remaining - FINISH_MARGIN_MS);
  await runs.reconcile();
  const schedules = { queued: 0 };
  try {
    const ticks = await fireDueTicks({
      runs,
      db: stores.db,
      logger: context.logger,
      schedules: schedulesOf(context.config),
      windowMs: DRAIN_TICK_WINDOW_MS,
    });
    schedules.queued = ticks.filter((tick) => tick.kind === 'queued').length;
  } catch (error) {
    // The next drain fires the tick, if it is still within the window; runs and deliveries go on now.
    context.logger.error('queueing due schedule ticks failed', { error: errorMessage(error) });
  }
  const executed = { executed: 0, failed: 0 };
  const worker = async () => {
    while (Date.now() < claimUntil) {
      try {
        const result = await runs.executeNext();
        if (!result) return;
        executed.executed += 1;
      } catch (error) {
        executed.failed += 1;
        context.logger.error('executing a queued run failed', { error: errorMessage(error) });
      }
    }
  };
  const workers =
    readInteger(context.env, ENV.runWorkers, { min: 0, max: 64 }) ?? DEFAULT_RUN_WORKERS;
  const [summary] = await Promise.all([
    drainDue({
      outbox: stores.outbox,
      webhooks: context.config.webhooks,
      logger: context.logger,
      keepGoing: () => Date.now() < sendUntil,
    }),
    ...Array.from({ length: workers }, worker),
  ]);
  // The runs just executed queued deliveries of their own: send those too, while there is time.
  const more = await drainDue({
    outbox: stores.outbox,
    webhooks: context.config.webhooks,
    logger: context.logger,
    keepGoing: () => Date.now() < sendUntil,
  });
  const webhooks = {
    attempted: summary.attempted + more.attempted,
    delivered: summary.delivered + more.delivered,
    retrying: summary.retrying + more.retrying,
    failed: summary.failed + more.failed,
    pending: await stores.outbox.pendingCount(),
  };
  const result = { webhooks, runs: executed, schedules };
  context.logger.info('scheduled drain done', result);
  return result;
}
