import type { RouteDefinition } from '#shared/http-api/route.ts';
import { eventsRoutes } from './events/routes.ts';
import { healthRoutes } from './health/routes.ts';
import { servicesRoutes } from './services/routes.ts';
import { webhooksRoutes } from './webhooks/routes.ts';
import { workflowsRoutes } from './workflows/routes.ts';

/** Every documented API route, by the function that serves it (the OpenAPI route aside, which documents these). */
export const API_ROUTES = {
  health: healthRoutes,
  services: servicesRoutes,
  workflows: workflowsRoutes,
  events: eventsRoutes,
  webhooks: webhooksRoutes,
} as const satisfies Record<string, readonly RouteDefinition[]>;
