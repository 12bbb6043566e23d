import type { RequestListener } from 'node:http';
import { healthReport } from '#functions/health/routes.ts';
import type { AegisContext } from '#shared/context.ts';
import { CORS_HEADERS, logRequestLine, requestIdOf } from '#shared/http-api/middleware.ts';

/**
 * Answers a plain `GET /health` before Express sees it. Load balancers and
 * container health checks call it constantly, and Express's own routing costs
 * several times what the answer does (bench/README.md); the answer, its
 * headers, its log line and its metrics are the ones the health function gives. Anything
 * else, `HEAD` and query strings included, goes to the app.
 */
export function answerHealthFirst(context: AegisContext, app: RequestListener): RequestListener {
  return function healthFirst(req, res) {
    if (req.method !== 'GET' || req.url !== '/health') return app(req, res);
    const started = performance.now();
    const requestId = requestIdOf(req.headers);
    const body = JSON.stringify(healthReport(context));
    res.writeHead(200, {
      'x-request-id': requestId,
      ...CORS_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    logRequestLine(context.logger, {
      requestId,
      method: 'GET',
      path: '/health',
      status: 200,
      started,
    });
    context.metrics.requestFinished('GET', '/health', 200, (performance.now() - started) / 1000);
  };
}
