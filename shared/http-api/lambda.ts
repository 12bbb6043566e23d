import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Express } from 'express';
import serverless from 'serverless-http';
import { loadConfig } from '../config/load.ts';
import { AegisContext } from '../context.ts';
import { ENV, type Environment, readEnv } from '../env.ts';
import { errorMessage } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createApiApp } from './api-app.ts';
import type { RouteDefinition } from './route.ts';

export type LambdaContext = Partial<Context>;
export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: LambdaContext,
) => Promise<APIGatewayProxyStructuredResultV2>;
export type CreateApp = (context: AegisContext) => Express;
export type ContextProvider = () => AegisContext | Promise<AegisContext>;

/** A function's app behind serverless-http, for API Gateway HTTP API (payload 2.0) events. */
export function createApiHandler(
  context: AegisContext,
  createApp: CreateApp,
  routes: readonly RouteDefinition[],
): ApiHandler {
  const app = createApiApp(context, { apps: [createApp(context)], routes });
  // Without X-Request-Id, the request id is API Gateway's own.
  return serverless(app, { provider: 'aws', requestId: 'x-request-id' }) as ApiHandler;
}

/**
 * The context of a Lambda process: the config from `AEGIS_CONFIG` (or the
 * `.aegis.yaml` packaged beside the bundle), logs on stdout.
 */
export function contextFromEnvironment(
  env: Environment = process.env,
  cwd = process.cwd(),
): AegisContext {
  const logger = createLogger({ level: readEnv(env, ENV.logLevel) });
  const loaded = loadConfig({ env, cwd, allowDefaults: true });
  for (const warning of loaded.warnings)
    logger.warn('configuration warning', { path: warning.path, detail: warning.message });
  return new AegisContext({ config: loaded.config, configSource: loaded.source, env, logger });
}

/** Builds a value once, at first use (cold start); a failed build is tried again next time. */
export function once<T>(build: () => T | Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= Promise.resolve().then(build);
    value.catch(() => {
      value = undefined;
    });
    return value;
  };
}

/** What a function answers when its context cannot be built (a bad config): the reason, as JSON. */
export function startupFailure(error: unknown): APIGatewayProxyStructuredResultV2 {
  const message = `the function could not start: ${errorMessage(error)}`;
  createLogger({ level: 'ERROR' }).error('cold start failed', { error: message });
  return {
    statusCode: 500,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: 'configuration_error', message }),
  };
}

/** A Lambda handler that builds its context and app once, at the first invocation, and reuses them. */
export function lambdaHandler(
  createApp: CreateApp,
  routes: readonly RouteDefinition[],
  provide: ContextProvider = contextFromEnvironment,
): ApiHandler {
  const api = once(async () => createApiHandler(await provide(), createApp, routes));
  return async function handler(event, lambdaContext = {}) {
    let handle: ApiHandler;
    try {
      handle = await api();
    } catch (error) {
      return startupFailure(error);
    }
    return handle(event, lambdaContext);
  };
}
