import type { Express } from 'express';
import type { AegisContext } from '#shared/context.ts';
import { createFunctionApp } from '#shared/http-api/function-app.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { openApiRoute } from './openapi-route.ts';
import { healthRoutes } from './routes.ts';

/** The routes this function serves. */
export const routes: readonly RouteDefinition[] = [...healthRoutes, openApiRoute];

export function createHealthApp(context: AegisContext): Express {
  return createFunctionApp(context, routes);
}
