import type { Request } from 'express';
import type { z } from 'zod';
import type { AegisContext } from '../context.ts';

export type HttpMethod = 'get' | 'post';

/** What a route answers; a plain value means 200 with that JSON body. */
export interface Reply {
  status: number;
  body: unknown;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/**
 * One endpoint, declared as data: the function's Express app, the OpenAPI
 * document, the 405 answers and the SAM template's routes all come from
 * these declarations, so they cannot drift apart.
 */
export interface RouteDefinition<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI style: `/api/workflows/{name}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The documented answers, by status code. */
  responses: Record<number, ResponseSpec>;
  handle(
    input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> },
    context: AegisContext,
    request: Request,
  ): Promise<unknown> | unknown;
}

/** Declares a route with its input types inferred from its schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  route: RouteDefinition<P, Q, B>,
): RouteDefinition {
  return route as unknown as RouteDefinition;
}

export function isReply(value: unknown): value is Reply {
  return (
    value !== null &&
    typeof value === 'object' &&
    'status' in value &&
    'body' in value &&
    Object.keys(value).length === 2
  );
}

/** `/api/workflows/{name}` → `/api/workflows/:name` for Express. */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

/** A matcher for the path alone, whatever the method (for 405 answers). */
export function pathMatcher(path: string): RegExp {
  const pattern = path
    .split(/\{[A-Za-z_][A-Za-z0-9_]*\}/)
    .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${pattern}/?$`);
}
