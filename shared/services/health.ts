import type { ServiceConfig } from '../config/schema.ts';
import type { Environment } from '../env.ts';
import { send } from '../http-client.ts';
import { timerDelay } from '../time.ts';
import { newTraceId, traceparentFor } from '../trace.ts';
import { describeHttpStatus, describeTransportError, serviceHeaders, serviceUrl } from './http.ts';

export const HEALTH_STATUSES = ['healthy', 'unhealthy', 'unreachable', 'timeout'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export const DEFAULT_HEALTH_TIMEOUT_MS = 5000;

export interface ServiceHealth {
  service: string;
  healthy: boolean;
  status: HealthStatus;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface HealthCheckOptions {
  env: Environment;
  timeoutMs?: number;
  /** The W3C trace the checks belong to (the asking request's); a new one when absent. */
  traceId?: string | undefined;
}

/** `GET {url}{health_endpoint}`: healthy on 2xx within the timeout (SPEC §2). */
export async function checkServiceHealth(
  key: string,
  service: ServiceConfig,
  { env, timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS, traceId = newTraceId() }: HealthCheckOptions,
): Promise<ServiceHealth> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  const signal = AbortSignal.timeout(timerDelay(timeoutMs));
  try {
    const response = await send(serviceUrl(service, service.health_endpoint), {
      headers: { ...serviceHeaders(service, env), traceparent: traceparentFor(traceId) },
      signal,
    });
    response.discard();
    const healthy = response.ok;
    return {
      service: key,
      healthy,
      status: healthy ? 'healthy' : 'unhealthy',
      status_code: response.status,
      latency_ms: latency(),
      error: healthy ? null : describeHttpStatus(service, env, response.status),
    };
  } catch (error) {
    const timedOut = signal.aborted;
    return {
      service: key,
      healthy: false,
      status: timedOut ? 'timeout' : 'unreachable',
      status_code: null,
      latency_ms: latency(),
      error: timedOut ? `no answer within ${timeoutMs / 1000}s` : describeTransportError(error),
    };
  }
}

/** Checks every service at once, in one trace: ten services that each take 1 s take about 1 s. */
export function checkAllServices(
  services: Readonly<Record<string, ServiceConfig>>,
  options: HealthCheckOptions,
): Promise<ServiceHealth[]> {
  const traced = { ...options, traceId: options.traceId ?? newTraceId() };
  return Promise.all(
    Object.entries(services).map(([key, service]) => checkServiceHealth(key, service, traced)),
  );
}
