import { z } from 'zod';
import type { RouteDefinition } from './route.ts';
import { ERROR_RESPONSES } from './schemas.ts';

type JsonObject = Record<string, unknown>;

/** Component schemas (those with a `.meta({id})`) are collected and referenced by `$ref`, so each shape is written once. */
function schemaConverter() {
  const components: Record<string, JsonObject> = {};
  const convert = (schema: z.ZodType, io: 'input' | 'output'): JsonObject => {
    const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
    const text = JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/');
    const {
      $defs,
      $schema: _dialect,
      ...rest
    } = JSON.parse(text) as JsonObject & { $defs?: Record<string, JsonObject> };
    Object.assign(components, $defs);
    return rest;
  };
  return { components, convert };
}

function objectProperties(schema: z.ZodType | undefined): [string, z.ZodType, boolean][] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, property]) => [
    name,
    property,
    // Required when leaving it out is an error (defaults and optional ones parse without it).
    !property.safeParse(undefined).success,
  ]);
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

/** The answers a route gives by what it takes, whatever it declares itself. */
function standardResponses(route: RouteDefinition): RouteDefinition['responses'] {
  const responses: RouteDefinition['responses'] = { 500: ERROR_RESPONSES[500] };
  if (route.params || route.query || route.body || route.method === 'post')
    responses[400] = ERROR_RESPONSES[400];
  if (route.access !== 'public') {
    responses[401] = ERROR_RESPONSES[401];
    responses[403] = ERROR_RESPONSES[403];
  }
  if (route.method === 'post') {
    responses[413] = ERROR_RESPONSES[413];
    // A raw body is taken whatever its type.
    if (route.bodyKind !== 'raw') responses[415] = ERROR_RESPONSES[415];
  }
  return responses;
}

/**
 * An OpenAPI 3.1 document made from the same route declarations and zod
 * schemas that validate requests, so the document cannot drift from the API.
 */
export function openApiDocument(routes: readonly RouteDefinition[], info: OpenApiInfo): JsonObject {
  const { components, convert } = schemaConverter();
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const parameters = [
      ...objectProperties(route.params).map(([name, schema]) => ({
        name,
        in: 'path',
        required: true,
        schema: convert(schema, 'input'),
      })),
      ...objectProperties(route.query).map(([name, schema, required]) => {
        const converted = convert(schema, 'input');
        return {
          name,
          in: 'query',
          required,
          schema: converted,
          ...(schema.description ? { description: schema.description } : {}),
        };
      }),
      ...Object.entries(route.headers ?? {}).map(([name, description]) => ({
        name,
        in: 'header',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ];
    const responses = Object.fromEntries(
      Object.entries({ ...standardResponses(route), ...route.responses })
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, spec]) => [
          status,
          {
            description: spec.description,
            ...(spec.headers
              ? {
                  headers: Object.fromEntries(
                    Object.entries(spec.headers).map(([name, description]) => [
                      name,
                      { description, schema: { type: 'string' } },
                    ]),
                  ),
                }
              : {}),
            ...(spec.schema
              ? {
                  content: {
                    [spec.contentType ?? 'application/json']: {
                      schema: convert(spec.schema, 'output'),
                    },
                  },
                }
              : spec.contentType
                ? { content: { [spec.contentType]: { schema: { type: 'string' } } } }
                : {}),
          },
        ]),
    );
    const operation: JsonObject = {
      operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body || route.bodyKind === 'raw'
        ? {
            requestBody: {
              required: false,
              content:
                route.bodyKind === 'raw'
                  ? {
                      'application/json': { schema: {} },
                      'application/octet-stream': { schema: {} },
                    }
                  : {
                      'application/json': {
                        schema: route.body ? convert(route.body, 'input') : {},
                      },
                    },
            },
          }
        : {}),
      responses,
      // Which key scope the operation needs when auth is on; `{}` = none needed then (auth off, or reads open).
      security:
        route.access === 'public'
          ? []
          : route.access === 'read'
            ? [{ apiKey: ['read'] }, {}]
            : [{ apiKey: [route.access] }],
      'x-aegis-scope': route.access,
    };
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description:
            'An API key of auth.keys (or auth.api_key, the key named default, with every scope). Operations list the scope they need: read (GET, only with auth.protect_reads), run (start, cancel, rerun) or admin. Never accepted in a query string.',
        },
      },
    },
  };
}
