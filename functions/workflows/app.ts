import type { Express } from 'express';
import type { AegisContext } from '#shared/context.ts';
import { createFunctionApp } from '#shared/http-api/function-app.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { workflowsRoutes } from './routes.ts';

/** The routes this function serves. */
export const routes: readonly RouteDefinition[] = workflowsRoutes;

export function createWorkflowsApp(context: AegisContext): Express {
  return createFunctionApp(context, routes);
}
