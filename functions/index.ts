import type { CreateApp } from '#shared/http-api/lambda.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { createEventsApp, routes as eventsRoutes } from './events/app.ts';
import { createHealthApp, routes as healthRoutes } from './health/app.ts';
import { createServicesApp, routes as servicesRoutes } from './services/app.ts';
import { createWebhooksApp, routes as webhooksRoutes } from './webhooks/app.ts';
import { createWorkflowsApp, routes as workflowsRoutes } from './workflows/app.ts';

export interface FunctionDefinition {
  createApp: CreateApp;
  routes: readonly RouteDefinition[];
}

/** Every function: the host mounts them all, `aegis invoke` and the Lambda build take them one by one. */
export const FUNCTIONS = {
  health: { createApp: createHealthApp, routes: healthRoutes },
  services: { createApp: createServicesApp, routes: servicesRoutes },
  workflows: { createApp: createWorkflowsApp, routes: workflowsRoutes },
  events: { createApp: createEventsApp, routes: eventsRoutes },
  webhooks: { createApp: createWebhooksApp, routes: webhooksRoutes },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
