import express, { type Express, type Request } from 'express';
import type { AegisContext } from '../context.ts';
import { expressPath, isReply, type RouteDefinition } from './route.ts';
import { parseInput } from './validate.ts';

/**
 * A function's Express app: its routes, each validating its input with its
 * zod schemas before calling the core. Cross-cutting concerns (request ids,
 * CORS, body parsing, auth, logging, errors) belong to the app that hosts it:
 * the Lambda wrapper or the local host (see `api-app.ts`).
 */
export function createFunctionApp(
  context: AegisContext,
  routes: readonly RouteDefinition[],
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  for (const route of routes) {
    app[route.method](expressPath(route.path), async (req: Request, res) => {
      const input = {
        params: parseInput(route.params, req.params, 'path parameter'),
        query: parseInput(route.query, req.query, 'query parameter'),
        body: parseInput(route.body, req.body, 'body'),
      };
      const result = await route.handle(input, context, req);
      if (isReply(result)) res.status(result.status).json(result.body);
      else res.json(result);
    });
  }
  return app;
}
