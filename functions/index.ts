import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiGatewayEvent } from '#shared/http-api/apigw-event.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { eventsRoutes } from './events/routes.ts';
import { openApiRoute } from './health/openapi-route.ts';
import { healthRoutes } from './health/routes.ts';
import { insightRoutes } from './insight/routes.ts';
import { metricsRoutes } from './metrics/routes.ts';
import { runsRoutes } from './runs/routes.ts';
import { schedulesRoutes } from './schedules/routes.ts';
import { servicesRoutes } from './services/routes.ts';
import { triggersRoutes } from './triggers/routes.ts';
import { webhooksRoutes } from './webhooks/routes.ts';
import { workflowsRoutes } from './workflows/routes.ts';

/** What the registry knows of one function; its folder holds the routes, the Lambda handler and the tests. */
export interface FunctionDefinition {
  name: string;
  /** One line for the SAM template and `aegis invoke --help`. */
  description: string;
  routes: readonly RouteDefinition[];
  /** Takes the API's catch-all route on Lambda: it knows every route, for 404 and 405 answers. */
  catchAll?: boolean;
  /** Also invoked by the EventBridge schedule (the drain of the webhook outbox and the run queue). */
  scheduled?: boolean;
  /** What `aegis invoke <function>` sends when no event file is given. */
  sampleEvent: () => APIGatewayProxyEventV2;
}

function define<const N extends string>(
  name: N,
  definition: Omit<FunctionDefinition, 'name'>,
): FunctionDefinition & { name: N } {
  return { name, ...definition };
}

/**
 * The one registry of functions: the host mounts their routes on one router,
 * `aegis invoke` and the Lambda build take them one by one, the bundle tests
 * and the SAM template's events come from here.
 */
export const FUNCTIONS = {
  health: define('health', {
    description:
      'GET /health and /openapi.json; on Lambda, every unmatched request (JSON 404 and 405 answers).',
    routes: [...healthRoutes, openApiRoute(() => API_ROUTES)],
    catchAll: true,
    sampleEvent: () => apiGatewayEvent({ path: '/health' }),
  }),
  services: define('services', {
    description: 'The services, their live health, and the portfolio.',
    routes: servicesRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/api/services' }),
  }),
  workflows: define('workflows', {
    description: 'Workflow definitions, starting runs, and the history.',
    routes: workflowsRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/api/workflows' }),
  }),
  runs: define('runs', {
    description: 'One run: read it (or wait for it), cancel it, rerun it.',
    routes: runsRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/api/history', query: 'limit=1' }),
  }),
  insight: define('insight', {
    description: "Test insight: a workflow's tests (flaky ones first) and its trends.",
    routes: insightRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/api/workflows/full_pipeline/stats' }),
  }),
  events: define('events', {
    description: 'The lifecycle events, and their live stream (local host only).',
    routes: eventsRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/api/events', query: 'limit=5' }),
  }),
  webhooks: define('webhooks', {
    description:
      'The webhooks and their outbox; on a schedule, sends the deliveries that are due and executes queued runs.',
    routes: webhooksRoutes,
    scheduled: true,
    sampleEvent: () => apiGatewayEvent({ path: '/api/webhooks' }),
  }),
  schedules: define('schedules', {
    description: "The workflows' schedules: each cron expression, its next tick and its last run.",
    routes: schedulesRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/api/schedules' }),
  }),
  triggers: define('triggers', {
    description:
      'Signed inbound webhooks (GitHub, Standard Webhooks) that queue a workflow run, once per delivery.',
    routes: triggersRoutes,
    sampleEvent: () =>
      apiGatewayEvent({
        method: 'POST',
        path: '/api/triggers/example',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
  }),
  metrics: define('metrics', {
    description:
      'GET /metrics: Prometheus metrics (on Lambda, per instance only: use CloudWatch metrics there).',
    routes: metricsRoutes,
    sampleEvent: () => apiGatewayEvent({ path: '/metrics' }),
  }),
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** Every route of the API, each once, in registry order (the OpenAPI document lists these). */
export const API_ROUTES: readonly RouteDefinition[] = Object.values(FUNCTIONS).flatMap(
  (f) => f.routes,
);
