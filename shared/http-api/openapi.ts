import { z } from 'zod';
import type { RouteDefinition } from './route.ts';

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
    !(property instanceof z.ZodOptional || property instanceof z.ZodDefault),
  ]);
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
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
    ];
    const responses = Object.fromEntries(
      Object.entries(route.responses).map(([status, spec]) => [
        status,
        {
          description: spec.description,
          ...(spec.schema
            ? { content: { 'application/json': { schema: convert(spec.schema, 'output') } } }
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
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: convert(route.body, 'input') } },
            },
          }
        : {}),
      responses,
      ...(route.method === 'post' ? { security: [{ apiKey: [] }, {}] } : {}),
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
          description: 'Required on POST requests when auth.api_key is set.',
        },
      },
    },
  };
}
