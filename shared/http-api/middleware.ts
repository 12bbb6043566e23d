import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  BadRequestError,
  errorMessage,
  HttpError,
  InternalServerError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
  UserFacingError,
} from '../errors.ts';
import type { Logger } from '../logger.ts';
import { roundMs } from '../time.ts';
import { pathMatcher, type RouteDefinition } from './route.ts';

/** SPEC §6: bodies over 1 MiB are refused with 413. */
export const MAX_BODY_BYTES = 1_048_576;

const REQUEST_ID = /^[\w.:@-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    /** Taken from `X-Request-Id` when sent (and sane), made up otherwise; echoed back and logged. */
    requestId: string;
  }
}

/** The caller's `X-Request-Id` when it is sane, a new one otherwise. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const sent = headers['x-request-id'];
  return typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** Sent on every answer: any origin may read it, and the request id with it. */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'X-Request-Id',
} as const;

/** Marks the dashboard's own polling, whose request lines are DEBUG rather than INFO. */
export const CLIENT_HEADER = 'x-aegis-client';

export interface RequestLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  /** `performance.now()` when the request arrived. */
  started: number;
  /** Routine traffic (the dashboard's reads) is logged at DEBUG. */
  routine?: boolean;
}

/** One structured line per request: request id, method, path (never the query or headers), status, duration. */
export function logRequestLine(
  logger: Logger,
  { requestId, method, path, status, started, routine = false }: RequestLine,
): void {
  const line = {
    request_id: requestId,
    method,
    path,
    status,
    duration_ms: roundMs(performance.now() - started),
  };
  if (status >= 500) logger.error('request', line);
  else if (routine && status < 400) logger.debug('request', line);
  else logger.info('request', line);
}

/** What hears of every finished answer (the metrics): the route's template, never the raw path. */
export interface RequestObserver {
  requestFinished(method: string, route: string, status: number, seconds: number | null): void;
}

/** The `route` label of a request no declaration matched (404s, 405s, the dashboard's files). */
export const UNMATCHED_ROUTE = 'unmatched';

const EVENT_STREAM = 'text/event-stream';

/**
 * What every request gets before routing, in one middleware: a request id
 * (taken from `X-Request-Id` when sane, echoed back), the CORS headers (any
 * origin, as the original allowed; preflights answered here, before auth),
 * and one log line and one metrics observation when the answer is finished.
 */
export function requestEnvelope(logger: Logger, observer?: RequestObserver): RequestHandler {
  return function envelope(req, res, next) {
    const started = performance.now();
    req.requestId = requestIdOf(req.headers);
    res.setHeader('x-request-id', req.requestId);
    res.setHeader('access-control-allow-origin', CORS_HEADERS['access-control-allow-origin']);
    res.setHeader('access-control-expose-headers', CORS_HEADERS['access-control-expose-headers']);
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      logRequestLine(logger, {
        requestId: req.requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        started,
        routine: req.headers[CLIENT_HEADER] === 'dashboard',
      });
      const route = req.aegisRoute;
      observer?.requestFinished(
        req.method,
        route?.path ?? UNMATCHED_ROUTE,
        res.statusCode,
        route?.responses[200]?.contentType === EVENT_STREAM
          ? null
          : (performance.now() - started) / 1000,
      );
    };
    res.once('finish', report);
    // An answer cut off after its headers (an event stream whose client left) never finishes: reported when it closes.
    res.once('close', () => {
      if (res.headersSent) report();
    });
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader(
      'access-control-allow-headers',
      'Content-Type, X-API-Key, X-Request-Id, Idempotency-Key, Prefer, Last-Event-ID, traceparent, X-Aegis-Client',
    );
    res.setHeader('access-control-max-age', '600');
    res.status(204).end();
  };
}

/** A path that exists for another method is a 405 with `Allow`; anything else unknown is a JSON 404. */
export function unmatched(routes: readonly RouteDefinition[]): RequestHandler {
  const matchers = routes.map((route) => ({
    method: route.method.toUpperCase(),
    match: pathMatcher(route.path),
  }));
  return function notFoundOrWrongMethod(req, _res, next) {
    const allowed = [
      ...new Set(matchers.filter((m) => m.match.test(req.path)).map((m) => m.method)),
    ];
    if (allowed.length > 0) {
      const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
      return next(
        new MethodNotAllowedError(
          `${req.method} is not allowed on ${req.path} (allowed: ${allow.join(', ')})`,
          allow,
        ),
      );
    }
    next(new NotFoundError(`no such path: ${req.path}`));
  };
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Turns anything thrown into SPEC §6's `{error, message}`: no stack traces, no secrets. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  // Such as a history database that cannot be opened: the message names the problem, never a secret.
  if (error instanceof UserFacingError) return new ServiceUnavailableError(error.message);
  const type = (error as BodyParserError | null)?.type;
  if (type === 'entity.too.large')
    return new PayloadTooLargeError(`request body is larger than 1 MiB (${MAX_BODY_BYTES} bytes)`);
  if (type === 'entity.parse.failed') return new BadRequestError('request body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new UnsupportedMediaTypeError(
      'request body encoding is not supported (send UTF-8, optionally gzip or deflate)',
    );
  const status = (error as BodyParserError | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new BadRequestError('malformed request');
  return new InternalServerError('internal server error');
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return function answerWithError(
    error: unknown,
    req: Request,
    res: Response,
    _next: NextFunction,
  ) {
    const httpError = toHttpError(error);
    if (httpError.statusCode >= 500) {
      // The message only: a stack trace or a secret never reaches a log line or an answer.
      logger.error('request failed', {
        request_id: req.requestId,
        path: req.path,
        error: errorMessage(error),
      });
    }
    if (httpError instanceof MethodNotAllowedError)
      res.setHeader('allow', httpError.allow.join(', '));
    const body = httpError.toJSON();
    if (httpError instanceof InternalServerError)
      body.message = `internal server error (request id ${req.requestId})`;
    res.status(httpError.statusCode).json(body);
  };
}
