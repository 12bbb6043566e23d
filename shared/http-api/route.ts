import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { AegisContext } from '../context.ts';
import type { ApiKeyIdentity, RouteAccess } from './auth.ts';

export type HttpMethod = 'get' | 'post';

/** What a route answers; a plain value means 200 with that JSON body. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A route that writes its own answer over time (Server-Sent Events): it owns `res` from here on. */
export interface StreamReply {
  stream(req: Request, res: Response): void;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response headers worth documenting (`Location` on a 202). */
  headers?: Record<string, string>;
  /** The media type when it is not JSON (`text/event-stream`). */
  contentType?: string;
}

/**
 * How a route takes its body. `json` (the default for POST): empty, or JSON
 * (`application/json`, `*+json`), else 415; `raw`: the exact bytes, whatever
 * their type, for routes that verify a signature over them. Every body is
 * capped at 1 MiB (413), read only once the caller is authorized.
 */
export type BodyKind = 'json' | 'raw';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The API key the caller sent, when auth is on and it was needed or given. */
  caller: ApiKeyIdentity | null;
  /** The exact body bytes (routes with `bodyKind: 'raw'`); empty otherwise. */
  rawBody: Buffer;
}

/**
 * One endpoint, declared as data: the Express router, the OpenAPI document,
 * the 405 answers, the scope a caller needs and the SAM template's routes all
 * come from these declarations, so they cannot drift apart.
 */
export interface RouteDefinition<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI style: `/api/workflows/{name}`. */
  path: string;
  /** Who may call it (SPEC §15): required, so that no route forgets it. */
  access: RouteAccess;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  bodyKind?: BodyKind;
  /** Request headers the route reads, by name, with what they do (for the OpenAPI document). */
  headers?: Record<string, string>;
  /**
   * The answer depends on the configuration alone (never on the request or
   * the database): the router builds it once and serves the same bytes.
   */
  configOnly?: boolean;
  /**
   * A `GET` without path parameters that the local host may run without
   * Express (local-host/host/direct-routes.ts) when its handler answers
   * `jsonText`: the handler reads its input and the context, never `request`.
   */
  direct?: boolean;
  /** The documented answers, by status code. */
  responses: Record<number, ResponseSpec>;
  handle(
    input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>,
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

/** A 200 whose JSON the route already has as text (built by SQL): sent as it is. */
export interface JsonText {
  json: string;
}

const REPLY = Symbol('reply');
const STREAM = Symbol('stream');
const JSON_TEXT = Symbol('json-text');

/** An answer other than 200. */
export function reply(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return Object.assign({ status, body, ...(headers ? { headers } : {}) }, { [REPLY]: true });
}

/** An answer the route writes itself, over time. */
export function streamReply(stream: StreamReply['stream']): StreamReply {
  return Object.assign({ stream }, { [STREAM]: true });
}

/** A 200 with JSON the route serialized already (it must match the route's 200 schema). */
export function jsonText(json: string): JsonText {
  return Object.assign({ json }, { [JSON_TEXT]: true });
}

export function isJsonText(value: unknown): value is JsonText {
  return typeof value === 'object' && value !== null && JSON_TEXT in value;
}

export function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && REPLY in value;
}

export function isStreamReply(value: unknown): value is StreamReply {
  return typeof value === 'object' && value !== null && STREAM in value;
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
