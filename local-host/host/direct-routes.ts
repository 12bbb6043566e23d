import type { RequestListener } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Request } from 'express';
import type { AegisContext } from '#shared/context.ts';
import { ApiKeys } from '#shared/http-api/auth.ts';
import { isJsonText, type RouteDefinition } from '#shared/http-api/route.ts';
import { parseInput } from '#shared/http-api/validate.ts';
import { admittedCaller, pathOf, sendJson } from './send-answer.ts';

const NO_BYTES = Buffer.alloc(0);

/**
 * The reads declared `direct` (the history), run by the host without
 * Express: the route's own query schema and handler, the same bytes,
 * headers, log line and metrics. Express's router walk and response
 * helpers were a third of such a request's allocations, and the GC they
 * cause made the tail under load (bench/README.md). Whatever is not a
 * plain success goes to Express, which answers as it always does: another
 * path or method, a caller the scope refuses, a query the schema refuses,
 * a handler that fails (run again there, so that the error answer is the
 * one place's), or an answer other than a 200.
 */
export function directRoutes(
  context: AegisContext,
  routes: readonly RouteDefinition[],
  app: RequestListener,
): RequestListener {
  const keys = ApiKeys.fromConfig(context.config.auth);
  const byPath = new Map(
    routes.filter((route) => route.direct && route.method === 'get').map((r) => [r.path, r]),
  );
  return function direct(req, res) {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined) return app(req, res);
    const route = byPath.get(pathOf(url));
    if (!route) return app(req, res);
    const started = performance.now();
    const caller = admittedCaller(keys, req, route.access);
    if (caller === undefined) return app(req, res);
    let query: unknown;
    try {
      // Express's 'simple' query parser is querystring.parse: the same input to the same schema.
      const mark = url.indexOf('?');
      query = parseInput(
        route.query,
        parseQuery(mark === -1 ? '' : url.slice(mark + 1)),
        'query parameter',
      );
    } catch {
      return app(req, res);
    }
    const input = { params: {}, query, body: {}, caller, rawBody: NO_BYTES };
    // A direct route's handler reads its input and the context only (RouteDefinition.direct);
    // called inside an async function, so that a throw is a rejection too.
    const answer = async () => route.handle(input, context, req as Request);
    answer().then(
      (result) => {
        if (isJsonText(result))
          sendJson(context, req, res, route.path, Buffer.from(result.json), started);
        else app(req, res);
      },
      () => app(req, res),
    );
  };
}
