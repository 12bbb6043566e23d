import { isScheduledEvent } from '#shared/http-api/apigw-event.ts';
import {
  contextFromEnvironment,
  type LambdaContext,
  lambdaHandler,
  once,
  startupFailure,
} from '#shared/http-api/lambda.ts';
import { createWebhooksApp, routes } from './app.ts';
import { drainOnSchedule } from './scheduled-drain.ts';

const context = once(() => contextFromEnvironment());
const api = lambdaHandler(createWebhooksApp, routes, context);

/**
 * The Lambda entry point: API Gateway HTTP API events for the webhook
 * routes, and the EventBridge schedule that drains the outbox.
 */
export async function handler(event: unknown, lambdaContext: LambdaContext = {}): Promise<unknown> {
  if (!isScheduledEvent(event)) return api(event as Parameters<typeof api>[0], lambdaContext);
  let ready: Awaited<ReturnType<typeof context>>;
  try {
    ready = await context();
  } catch (error) {
    return startupFailure(error);
  }
  return drainOnSchedule(ready, lambdaContext);
}
