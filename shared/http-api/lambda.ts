import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import serverless from 'serverless-http';
import { loadConfig } from '../config/load.ts';
import { AegisContext } from '../context.ts';
import { ENV, type Environment, readEnv } from '../env.ts';
import { errorMessage } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createApiApp } from './api-app.ts';
import type { RouteDefinition } from './route.ts';

/** What the Lambda layer needs of a function: its routes, and whether it is the catch-all that knows them all. */
export interface LambdaFunction {
  routes: readonly RouteDefinition[];
  catchAll?: boolean;
}

export type LambdaContext = Partial<Context>;
export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: LambdaContext,
) => Promise<APIGatewayProxyStructuredResultV2>;
export type ContextProvider = () => AegisContext | Promise<AegisContext>;

/**
 * A function's app behind serverless-http, for API Gateway HTTP API (payload
 * 2.0) events. `allRoutes` lets the catch-all function answer 405 for a path
 * another function serves.
 */
export function createApiHandler(
  context: AegisContext,
  fn: LambdaFunction,
  allRoutes: readonly RouteDefinition[] = fn.routes,
): ApiHandler {
  const app = createApiApp(context, {
    routes: fn.routes,
    knownRoutes: fn.catchAll ? allRoutes : fn.routes,
  });
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
  return new AegisContext({
    config: loaded.config,
    configSource: loaded.source,
    env,
    logger,
    apiTrigger: 'lambda',
  });
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

/**
 * A Lambda handler that builds its context and app once, at the first
 * invocation, and reuses them; each invocation's log lines carry its Lambda
 * context (request id, cold start) through Powertools' own `addContext`.
 */
export function lambdaHandler(
  fn: LambdaFunction,
  allRoutes: readonly RouteDefinition[] = fn.routes,
  provide: ContextProvider = contextFromEnvironment,
): ApiHandler {
  const api = once(async () => {
    const context = await provide();
    return { context, handle: createApiHandler(context, fn, allRoutes) };
  });
  return async function handler(event, lambdaContext = {}) {
    let ready: Awaited<ReturnType<typeof api>>;
    try {
      ready = await api();
    } catch (error) {
      return startupFailure(error);
    }
    withLambdaContext(ready.context, lambdaContext);
    return ready.handle(event, lambdaContext);
  };
}

/** Powertools' documented way to put the invocation's context on every log line; a local invoke has none. */
export function withLambdaContext(context: AegisContext, lambdaContext: LambdaContext): void {
  if (
    typeof lambdaContext.awsRequestId === 'string' &&
    typeof lambdaContext.functionName === 'string'
  )
    context.logger.addContext(lambdaContext as Context);
}
