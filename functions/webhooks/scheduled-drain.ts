import type { AegisContext } from '#shared/context.ts';
import type { LambdaContext } from '#shared/http-api/lambda.ts';
import { type DrainSummary, drainDue } from '#shared/webhooks/drain.ts';
import { DELIVERY_TIMEOUT_MS } from '#shared/webhooks/send.ts';

/** Room left at the end of an invocation for the last attempts (10 s each) to finish and be recorded. */
const FINISH_MARGIN_MS = DELIVERY_TIMEOUT_MS + 5_000;
/** When Lambda does not say how long is left (a local invoke), stop taking work after this long. */
const DEFAULT_BUDGET_MS = 45_000;

/**
 * The webhooks function's scheduled entry point (every minute on Lambda):
 * sends the deliveries that are due and returns before the function's time
 * runs out; what is left waits for the next tick. A function leaves nothing running.
 */
export async function drainOnSchedule(
  context: AegisContext,
  lambdaContext: LambdaContext = {},
): Promise<DrainSummary & { pending: number }> {
  const { outbox } = await context.stores();
  const remaining =
    lambdaContext.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS + FINISH_MARGIN_MS;
  const deadline = Date.now() + Math.max(0, remaining - FINISH_MARGIN_MS);
  const summary = await drainDue({
    outbox,
    webhooks: context.config.webhooks,
    logger: context.logger,
    keepGoing: () => Date.now() < deadline,
  });
  const result = { ...summary, pending: await outbox.pendingCount() };
  context.logger.info('webhook outbox drained', result);
  return result;
}
