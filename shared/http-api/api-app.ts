import express, {
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import type { AegisContext } from '../context.ts';
import { ApiKeys, sentApiKey } from './auth.ts';
import { decodeBody, readBody } from './body.ts';
import { errorHandler, requestEnvelope, unmatched } from './middleware.ts';
import { PrebuiltAnswers } from './prebuilt-answers.ts';
import { expressPath, isJsonText, isReply, isStreamReply, type RouteDefinition } from './route.ts';
import { parseInput } from './validate.ts';

export interface ApiAppOptions {
  /** The routes this app serves. */
  routes: readonly RouteDefinition[];
  /** Every route of the API, for 405 answers (the catch-all function knows them all); `routes` by default. */
  knownRoutes?: readonly RouteDefinition[];
  /** Mounted after the routes and before the 404 (the host's dashboard). */
  extra?: readonly RequestHandler[];
  /** Where the config-only answers are kept (the host serves them ahead of Express too). */
  answers?: PrebuiltAnswers;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The route declaration that matched, for the request's metrics and log line. */
    aegisRoute?: RouteDefinition;
  }
}

/**
 * The app of one function (on Lambda) or of all of them on one router (the
 * local host): the request envelope (id, CORS, log line), then each route in
 * a fixed order of checks — path and method (404/405), the API key (401/403)
 * before any body is read, the body (413/415/400), its validation (400) —
 * then the one place errors become `{error, message}` answers.
 */
export function createApiApp(
  context: AegisContext,
  { routes, knownRoutes = routes, extra = [], answers = new PrebuiltAnswers() }: ApiAppOptions,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestEnvelope(context.logger, context.metrics));
  const keys = ApiKeys.fromConfig(context.config.auth);
  for (const route of routes)
    app[route.method](expressPath(route.path), routeHandler(route, context, keys, answers));
  for (const handler of extra) app.use(handler);
  app.use(unmatched(knownRoutes));
  app.use(errorHandler(context.logger));
  return app;
}

function routeHandler(
  route: RouteDefinition,
  context: AegisContext,
  keys: ApiKeys,
  answers: PrebuiltAnswers,
) {
  const takesBody = route.method === 'post';
  return async function handleRoute(req: Request, res: Response, next: NextFunction) {
    req.aegisRoute = route;
    try {
      const caller = keys.authorize(sentApiKey(req.headers), route.access, req.method);
      const prebuilt = route.configOnly ? answers.get(req.url) : undefined;
      if (prebuilt) return void sendJsonBytes(res, 200, prebuilt.bytes);
      const rawBody = takesBody ? await readBody(req, res) : Buffer.alloc(0);
      const input = {
        params: parseInput(route.params, req.params, 'path parameter'),
        query: parseInput(route.query, req.query, 'query parameter'),
        body: parseInput(route.body, decodeBody(req, rawBody, route.bodyKind ?? 'json'), 'body'),
        caller,
        rawBody: route.bodyKind === 'raw' ? rawBody : Buffer.alloc(0),
      };
      const result = await route.handle(input, context, req);
      if (isStreamReply(result)) return result.stream(req, res);
      if (isJsonText(result)) return void sendJsonBytes(res, 200, Buffer.from(result.json));
      if (isReply(result)) {
        if (result.headers)
          for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        res.status(result.status).json(result.body);
        return;
      }
      const bytes = Buffer.from(JSON.stringify(result));
      if (route.configOnly) answers.remember(req.url, route, bytes);
      sendJsonBytes(res, 200, bytes);
    } catch (error) {
      next(error);
    }
  };
}

function sendJsonBytes(res: Response, status: number, bytes: Buffer): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', bytes.length);
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}
