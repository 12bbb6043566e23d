import express, { type Express, type RequestHandler } from 'express';
import type { AegisContext } from '../context.ts';
import {
  cors,
  errorHandler,
  MAX_BODY_BYTES,
  requestId,
  requestLog,
  requireApiKeyForWrites,
  unmatched,
} from './middleware.ts';
import type { RouteDefinition } from './route.ts';

export interface ApiAppOptions {
  /** The function apps to mount, in order. */
  apps: readonly Express[];
  /** Every route the mounted apps serve, for 405 answers. */
  routes: readonly RouteDefinition[];
  /** Mounted after the apps and before the 404 (the host's dashboard). */
  extra?: readonly RequestHandler[];
}

/**
 * The app around one function (on Lambda) or around all of them (the local
 * host): request ids, CORS, one log line per request, JSON bodies up to
 * 1 MiB, the API key on writes, then the function apps, then 405/404 and the
 * one place errors become `{error, message}` answers.
 */
export function createApiApp(
  context: AegisContext,
  { apps, routes, extra = [] }: ApiAppOptions,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestId(), requestLog(context.logger), cors());
  app.use(
    express.json({ limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'] }),
  );
  app.use(requireApiKeyForWrites(context.config.auth.api_key));
  for (const functionApp of apps) app.use(functionApp);
  for (const handler of extra) app.use(handler);
  app.use(unmatched(routes));
  app.use(errorHandler(context.logger));
  return app;
}
