import type { AegisContext } from '#shared/context.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import { healthSchema } from '#shared/http-api/schemas.ts';

/** What `GET /health` answers: liveness, the package version and what is configured. */
export function healthReport(context: AegisContext) {
  return {
    status: 'ok' as const,
    version: context.version,
    uptime_seconds: Math.round((performance.now() - context.startedAt) / 100) / 10,
    services_configured: Object.keys(context.config.services).length,
    workflows_configured: Object.keys(context.config.workflows).length,
  };
}

export const healthRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/health',
    access: 'public',
    tag: 'meta',
    summary: 'Liveness, version and what is configured',
    responses: {
      200: { description: 'The process is up.', schema: healthSchema },
    },
    handle: (_input, context) => healthReport(context),
  }),
];
