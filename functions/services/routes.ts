import { z } from 'zod';
import { findService } from '#shared/config/lookup.ts';
import { nameParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import {
  ERROR_RESPONSES,
  portfolioSchema,
  serviceHealthSchema,
  serviceListingSchema,
} from '#shared/http-api/schemas.ts';
import { redactUrl, redactUrlsIn } from '#shared/redact.ts';
import { checkAllServices, checkServiceHealth } from '#shared/services/health.ts';
import { serviceListing } from '#shared/services/listing.ts';
import { continuedTrace } from '#shared/trace.ts';

export const PORTFOLIO_TAGLINE = 'Control plane for HTTP-based QA services';

export const servicesRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/services',
    access: 'read',
    tag: 'services',
    summary: 'Every service with its live health (checked concurrently)',
    responses: {
      200: { description: 'The services, in config order.', schema: z.array(serviceListingSchema) },
    },
    handle: async (_input, context, req) => {
      const health = await checkAllServices(context.config.services, {
        env: context.env,
        traceId: continuedTrace(req.headers)?.traceId,
      });
      context.metrics.servicesChecked(health);
      return serviceListing(context.config.services, health);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/services/{name}/health',
    access: 'read',
    tag: 'services',
    summary: "One service's health",
    params: z.object({ name: nameParam }),
    responses: {
      200: {
        description: 'The health check result (also when unhealthy).',
        schema: serviceHealthSchema,
      },
      404: ERROR_RESPONSES[404],
    },
    handle: async ({ params }, context, req) => {
      const health = await checkServiceHealth(
        params.name,
        findService(context.config, params.name),
        { env: context.env, traceId: continuedTrace(req.headers)?.traceId },
      );
      context.metrics.servicesChecked([health]);
      return { ...health, error: health.error === null ? null : redactUrlsIn(health.error) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/portfolio',
    access: 'read',
    tag: 'services',
    configOnly: true,
    summary: "Aegis's identity, its tools (the services) and its workflows",
    responses: {
      200: { description: 'The portfolio.', schema: portfolioSchema },
    },
    handle: (_input, { config }) => ({
      name: config.aegis.name,
      tagline: PORTFOLIO_TAGLINE,
      version: config.aegis.version,
      tools: Object.entries(config.services).map(([key, s]) => ({
        key,
        name: s.name,
        description: s.description,
        features: s.features,
        repo_url: redactUrl(s.repo_url),
        docs_url: redactUrl(s.docs_url),
      })),
      workflows: Object.keys(config.workflows),
    }),
  }),
];
