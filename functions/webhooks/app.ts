import type { Express } from 'express';
import type { AegisContext } from '#shared/context.ts';
import { createFunctionApp } from '#shared/http-api/function-app.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { webhooksRoutes } from './routes.ts';

/** The routes this function serves. */
export const routes: readonly RouteDefinition[] = webhooksRoutes;

export function createWebhooksApp(context: AegisContext): Express {
  return createFunctionApp(context, routes);
}
