import { lambdaHandler } from '#shared/http-api/lambda.ts';
import { FUNCTIONS } from '../index.ts';

/** The Lambda entry point: API Gateway HTTP API (payload 2.0) events. */
export const handler = lambdaHandler(FUNCTIONS.insight);
