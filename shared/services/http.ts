import type { ServiceConfig } from '../config/schema.ts';
import { type Environment, readEnv } from '../env.ts';
import { type ClientResponse, send } from '../http-client.ts';

/** A failed call to a QA service; the message names service, method, path and cause. */
export class ServiceCallError extends Error {}

/** Transport failures in words a user can act on (`connection refused`), not `ECONNREFUSED 127.0.0.1:9`. */
export function describeTransportError(error: unknown): string {
  const failure = error as { code?: string; cause?: { code?: string; message?: string } };
  const cause = failure.cause;
  switch (failure.code ?? cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timed out';
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export function serviceUrl(service: ServiceConfig, path: string): string {
  return `${service.url.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/** `Content-Type: application/json`, plus `X-API-Key` when the service's `api_key_env` names a set variable. */
export function serviceHeaders(service: ServiceConfig, env: Environment): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
  };
  const key = service.api_key_env ? readEnv(env, service.api_key_env) : undefined;
  if (key !== undefined) headers['x-api-key'] = key;
  return headers;
}

/**
 * A non-2xx answer as an error text: `HTTP 401`, and for a 401 or 403 what
 * the service was sent, since a key that never left is the usual cause
 * (`HTTP 401 (QAAGENT_API_KEY is not set)`).
 */
export function describeHttpStatus(
  service: ServiceConfig,
  env: Environment,
  status: number,
): string {
  if (status !== 401 && status !== 403) return `HTTP ${status}`;
  const name = service.api_key_env;
  if (!name) return `HTTP ${status} (the service has no api_key_env, so no X-API-Key was sent)`;
  if (env[name] === undefined) return `HTTP ${status} (${name} is not set)`;
  if (readEnv(env, name) === undefined) return `HTTP ${status} (${name} is empty)`;
  return `HTTP ${status}`;
}

export interface ServiceCall {
  key: string;
  service: ServiceConfig;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  env: Environment;
  signal?: AbortSignal | undefined;
  /** W3C trace context for the call. */
  traceparent?: string | undefined;
}

/** Calls a QA service and returns its JSON answer; anything else is a ServiceCallError. */
export async function callServiceJson(call: ServiceCall): Promise<unknown> {
  const where = `${call.key} ${call.method} ${call.path}`;
  let response: ClientResponse;
  try {
    response = await send(serviceUrl(call.service, call.path), {
      method: call.method,
      headers: call.traceparent
        ? { ...serviceHeaders(call.service, call.env), traceparent: call.traceparent }
        : serviceHeaders(call.service, call.env),
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: call.signal,
    });
  } catch (error) {
    throw new ServiceCallError(`${where}: ${describeTransportError(error)}`);
  }
  if (!response.ok) {
    // The status is the cause; the body is not read, so a broken one cannot hide it.
    response.discard();
    throw new ServiceCallError(
      `${where}: ${describeHttpStatus(call.service, call.env, response.status)}`,
    );
  }
  const text = await response.text().catch((error: unknown) => {
    throw new ServiceCallError(`${where}: ${describeTransportError(error)}`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ServiceCallError(`${where}: response is not JSON`);
  }
}
