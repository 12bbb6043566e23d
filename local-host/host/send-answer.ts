import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AegisContext } from '#shared/context.ts';
import {
  type ApiKeyIdentity,
  type ApiKeys,
  type RouteAccess,
  sentApiKey,
} from '#shared/http-api/auth.ts';
import {
  CLIENT_HEADER,
  CORS_HEADERS,
  logRequestLine,
  requestIdOf,
} from '#shared/http-api/middleware.ts';

/**
 * The caller a route's scope admits (`null`: no key needed or sent), or
 * `undefined` when it refuses them: Express then gives the 401 or 403.
 */
export function admittedCaller(
  keys: ApiKeys,
  req: IncomingMessage,
  access: RouteAccess,
): ApiKeyIdentity | null | undefined {
  try {
    return keys.authorize(sentApiKey(req.headers), access, 'GET');
  } catch {
    return undefined;
  }
}

/**
 * A 200 of JSON bytes to a `GET`, answered beside Express: the headers, log
 * line and metrics are those the request envelope gives through it.
 */
export function sendJson(
  context: AegisContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  body: Buffer,
  started = performance.now(),
): void {
  const requestId = requestIdOf(req.headers);
  res.writeHead(200, {
    'x-request-id': requestId,
    ...CORS_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
  });
  res.end(body);
  logRequestLine(context.logger, {
    requestId,
    method: 'GET',
    path: pathOf(req.url ?? route),
    status: 200,
    started,
    routine: req.headers[CLIENT_HEADER] === 'dashboard',
  });
  context.metrics.requestFinished('GET', route, 200, (performance.now() - started) / 1000);
}

/** The path alone, as the log line has it through Express: never the query. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
