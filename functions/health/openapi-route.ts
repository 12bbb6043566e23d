import { z } from 'zod';
import { openApiDocument } from '#shared/http-api/openapi.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';

const description = `Aegis: a control plane for HTTP-based QA services. Errors are \`{error, message}\`.
Each operation's \`security\` says which API key scope it needs when auth is on.`;

/** `GET /openapi.json`, over every route of the API (given late: the registry that lists them includes this route). */
export function openApiRoute(apiRoutes: () => readonly RouteDefinition[]): RouteDefinition {
  return defineRoute({
    method: 'get',
    path: '/openapi.json',
    access: 'public',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    configOnly: true,
    responses: {
      200: { description: 'The document.', schema: z.record(z.string(), z.unknown()) },
    },
    handle: (_input, context) =>
      openApiDocument(apiRoutes(), { title: 'Aegis API', version: context.version, description }),
  });
}
