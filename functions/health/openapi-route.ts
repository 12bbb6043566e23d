import { z } from 'zod';
import { openApiDocument } from '#shared/http-api/openapi.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import { API_ROUTES } from '../routes.ts';

const description = `Aegis: a control plane for HTTP-based QA services. Errors are \`{error, message}\`.
POST requests need \`X-API-Key\` when \`auth.api_key\` is set; reads stay open.`;

export const openApiRoute: RouteDefinition = defineRoute({
  method: 'get',
  path: '/openapi.json',
  tag: 'meta',
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: { description: 'The document.', schema: z.record(z.string(), z.unknown()) } },
  handle: (_input, context) =>
    openApiDocument([...Object.values(API_ROUTES).flat(), openApiRoute], {
      title: 'Aegis API',
      version: context.version,
      description,
    }),
});
