import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { healthReport } from '#functions/health/routes.ts';
import type { AegisContext } from '#shared/context.ts';
import { ApiKeys, sentApiKey } from '#shared/http-api/auth.ts';
import {
  CLIENT_HEADER,
  CORS_HEADERS,
  logRequestLine,
  requestIdOf,
} from '#shared/http-api/middleware.ts';
import type { PrebuiltAnswers } from '#shared/http-api/prebuilt-answers.ts';

/**
 * The host's front door: a plain `GET /health`, and any `GET` whose answer
 * depends on the configuration alone and was built once already (the
 * workflows, the portfolio, the webhooks, the OpenAPI document), answered
 * before Express sees the request. Express's routing and response helpers
 * cost several times what these answers do (bench/README.md). The bytes,
 * headers, log line and metrics are those the route gives through Express;
 * a caller the route's scope refuses, `HEAD`, and anything else go to the
 * app, which answers as it always does.
 */
export function answerFirst(
  context: AegisContext,
  answers: PrebuiltAnswers,
  app: RequestListener,
): RequestListener {
  const keys = ApiKeys.fromConfig(context.config.auth);
  return function frontDoor(req, res) {
    if (req.method !== 'GET' || req.url === undefined) return app(req, res);
    if (req.url === '/health') return send(context, req, res, '/health', healthBody(context));
    const prebuilt = answers.get(req.url);
    if (!prebuilt || !permitted(keys, req, prebuilt.route.access)) return app(req, res);
    send(context, req, res, prebuilt.route.path, prebuilt.bytes);
  };
}

function healthBody(context: AegisContext): Buffer {
  return Buffer.from(JSON.stringify(healthReport(context)));
}

function permitted(
  keys: ApiKeys,
  req: IncomingMessage,
  access: Parameters<ApiKeys['authorize']>[1],
) {
  try {
    keys.authorize(sentApiKey(req.headers), access, 'GET');
    return true;
  } catch {
    return false;
  }
}

function send(
  context: AegisContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  body: Buffer,
): void {
  const started = performance.now();
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
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
