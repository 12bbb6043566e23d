import { lambdaHandler } from '#shared/http-api/lambda.ts';
import { API_ROUTES, FUNCTIONS } from '../index.ts';

/**
 * The Lambda entry point: API Gateway HTTP API (payload 2.0) events. The
 * template also sends the API's catch-all route here, so it knows every
 * route: a known path with the wrong method is a 405, an unknown one a 404.
 */
export const handler = lambdaHandler(FUNCTIONS.health, API_ROUTES);
