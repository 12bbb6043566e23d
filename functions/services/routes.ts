import { z } from 'zod';
import type { AegisConfig, ServiceConfig } from '#shared/config/schema.ts';
import { NotFoundError } from '#shared/errors.ts';
import { nameParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import {
  ERROR_RESPONSES,
  errorSchema,
  portfolioSchema,
  serviceHealthSchema,
  serviceListingSchema,
} from '#shared/http-api/schemas.ts';
import { checkAllServices, checkServiceHealth } from '#shared/services/health.ts';
import { serviceListing } from '#shared/services/listing.ts';

export const PORTFOLIO_TAGLINE = 'Control plane for HTTP-based QA services';

function findService(config: AegisConfig, key: string): ServiceConfig {
  const service = Object.hasOwn(config.services, key) ? config.services[key] : undefined;
  if (service) return service;
  const known = Object.keys(config.services);
  throw new NotFoundError(
    `unknown service "${key}" (${known.length > 0 ? `known: ${known.join(', ')}` : 'no services are configured'})`,
  );
}

export const servicesRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/services',
    tag: 'services',
    summary: 'Every service with its live health (checked concurrently)',
    responses: {
      200: { description: 'The services, in config order.', schema: z.array(serviceListingSchema) },
      500: ERROR_RESPONSES[500],
    },
    handle: async (_input, context) =>
      serviceListing(
        context.config.services,
        await checkAllServices(context.config.services, { env: context.env }),
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/services/{name}/health',
    tag: 'services',
    summary: "One service's health",
    params: z.object({ name: nameParam }),
    responses: {
      200: {
        description: 'The health check result (also when unhealthy).',
        schema: serviceHealthSchema,
      },
      404: { description: 'No such service.', schema: errorSchema },
      500: ERROR_RESPONSES[500],
    },
    handle: ({ params }, context) =>
      checkServiceHealth(params.name, findService(context.config, params.name), {
        env: context.env,
      }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/portfolio',
    tag: 'services',
    summary: "Aegis's identity, its tools (the services) and its workflows",
    responses: {
      200: { description: 'The portfolio.', schema: portfolioSchema },
      500: ERROR_RESPONSES[500],
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
        repo_url: s.repo_url,
        docs_url: s.docs_url,
      })),
      workflows: Object.keys(config.workflows),
    }),
  }),
];
