import { lambdaHandler } from '#shared/http-api/lambda.ts';
import { createEventsApp, routes } from './app.ts';

/** The Lambda entry point: API Gateway HTTP API (payload 2.0) events. */
export const handler = lambdaHandler(createEventsApp, routes);
