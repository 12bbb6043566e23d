import type { RequestListener } from 'node:http';
import { healthReport } from '#functions/health/routes.ts';
import type { AegisContext } from '#shared/context.ts';
import { ApiKeys } from '#shared/http-api/auth.ts';
import type { PrebuiltAnswers } from '#shared/http-api/prebuilt-answers.ts';
import { admittedCaller, sendJson } from './send-answer.ts';

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
    if (req.url === '/health') return sendJson(context, req, res, '/health', healthBody(context));
    const prebuilt = answers.get(req.url);
    if (!prebuilt || admittedCaller(keys, req, prebuilt.route.access) === undefined)
      return app(req, res);
    sendJson(context, req, res, prebuilt.route.path, prebuilt.bytes);
  };
}

function healthBody(context: AegisContext): Buffer {
  return Buffer.from(JSON.stringify(healthReport(context)));
}
