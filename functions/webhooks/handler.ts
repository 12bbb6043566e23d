import { isScheduledEvent } from '#shared/http-api/apigw-event.ts';
import {
  contextFromEnvironment,
  type LambdaContext,
  lambdaHandler,
  once,
  startupFailure,
  withLambdaContext,
} from '#shared/http-api/lambda.ts';
import { FUNCTIONS } from '../index.ts';
import { drainOnSchedule } from './scheduled-drain.ts';

const context = once(() => contextFromEnvironment());
const api = lambdaHandler(FUNCTIONS.webhooks, FUNCTIONS.webhooks.routes, context);

/**
 * The Lambda entry point: API Gateway HTTP API events for the webhook
 * routes, and the EventBridge schedule that drains the outbox and the run queue.
 */
export async function handler(event: unknown, lambdaContext: LambdaContext = {}): Promise<unknown> {
  if (!isScheduledEvent(event)) return api(event as Parameters<typeof api>[0], lambdaContext);
  let ready: Awaited<ReturnType<typeof context>>;
  try {
    ready = await context();
  } catch (error) {
    return startupFailure(error);
  }
  withLambdaContext(ready, lambdaContext);
  return drainOnSchedule(ready, lambdaContext);
}
