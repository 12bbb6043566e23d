import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestError,
  errorMessage,
  HttpError,
  InternalServerError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
} from '#shared/errors.ts';

/** What a route handler sees: the parsed JSON body (undefined when none was sent). */
export interface DemoRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  json: unknown;
  /** The body exactly as received, for signature checks. */
  rawBody: string;
}

export interface DemoAnswer {
  status?: number;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  description: string;
  /** "api-key": needs X-API-Key when the service has a key; "open": never does. */
  access: 'api-key' | 'open';
  handle(request: DemoRequest): DemoAnswer;
}

/** A JSON service: its routes, plus `GET /` describing them. */
export interface JsonService {
  name: string;
  description: string;
  /** undefined: no key required. */
  apiKey: string | undefined;
  routes: readonly Route[];
}

export type RequestLog = (line: string) => void;

const MAX_BODY_BYTES = 1_048_576;

/** The node:http request listener for a service: routing, 404/405/401, JSON bodies, one log line per request. */
export function serviceListener(
  service: JsonService,
  log: RequestLog,
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = [indexRoute(service), ...service.routes];
  return (req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    res.on('finish', () =>
      log(
        `${service.name.padEnd(11)} ${method} ${path} ${res.statusCode} ${Math.round(performance.now() - started)}ms`,
      ),
    );
    answer(routes, service, req, method, path).then(
      (result) => send(res, result.status ?? 200, result.body),
      (error: unknown) => {
        const problem =
          error instanceof HttpError ? error : new InternalServerError('unexpected error');
        if (!(error instanceof HttpError)) log(`${service.name} error: ${errorMessage(error)}`);
        const headers: Record<string, string> =
          problem instanceof MethodNotAllowedError ? { allow: problem.allow.join(', ') } : {};
        send(res, problem.statusCode, problem.toJSON(), headers);
      },
    );
  };
}

async function answer(
  routes: readonly Route[],
  service: JsonService,
  req: IncomingMessage,
  method: string,
  path: string,
): Promise<DemoAnswer> {
  const atPath = routes.filter((r) => r.path === path);
  if (atPath.length === 0) throw new NotFoundError(`no route ${path} on the ${service.name}`);
  const route = atPath.find((r) => r.method === method);
  if (!route) {
    const allow = atPath.map((r) => r.method);
    throw new MethodNotAllowedError(`${path} allows ${allow.join(', ')}, not ${method}`, allow);
  }
  if (route.access === 'api-key' && service.apiKey !== undefined)
    checkApiKey(req.headers['x-api-key'], service.apiKey);
  const rawBody = method === 'POST' ? await readBody(req) : '';
  return route.handle({ method, path, headers: req.headers, json: parseJson(rawBody), rawBody });
}

function checkApiKey(sent: string | string[] | undefined, expected: string): void {
  if (typeof sent !== 'string') throw new UnauthorizedError('missing X-API-Key header');
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the key's length.
  if (!timingSafeEqual(sha256(sent), sha256(expected)))
    throw new UnauthorizedError('invalid X-API-Key');
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new PayloadTooLargeError(`request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An empty body is "no body" (so `curl -X POST` works); anything else must be JSON. */
function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequestError(`request body is not valid JSON: ${errorMessage(error)}`);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  // Indented, so that `curl` output reads well; these are demo services, not a hot path.
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function indexRoute(service: JsonService): Route {
  return {
    method: 'GET',
    path: '/',
    description: 'this description',
    access: 'open',
    handle: () => ({
      body: {
        service: service.name,
        description: service.description,
        api_key_required: service.apiKey !== undefined,
        routes: service.routes.map((r) => ({
          method: r.method,
          path: r.path,
          description: r.description,
          needs_api_key: r.access === 'api-key' && service.apiKey !== undefined,
        })),
      },
    }),
  };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The body as an object; no body counts as `{}`. */
export function objectBody(request: DemoRequest): Record<string, unknown> {
  if (request.json === undefined) return {};
  if (!isObject(request.json)) throw new BadRequestError('request body must be a JSON object');
  return request.json;
}
