import { onTestFinished } from 'vitest';
import type { Environment } from '#shared/env.ts';
import { type DemoServices, startDemoServices } from './start.ts';

/** Demo services on free ports, closed when the test ends; `log` collects their request lines. */
export async function startForTest(
  env: Environment = {},
): Promise<DemoServices & { log: string[] }> {
  const log: string[] = [];
  const services = await startDemoServices({
    host: '127.0.0.1',
    port: 0,
    env,
    log: (line) => log.push(line),
  });
  onTestFinished(() => services.close());
  return { ...services, log };
}

export interface Answer {
  status: number;
  headers: Headers;
  json: unknown;
}

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as-is, for malformed bodies. */
  raw?: string;
  headers?: Record<string, string>;
}

/** One real HTTP request; the answer's body parsed as JSON (every answer of the demo services is JSON). */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const body =
    options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}
