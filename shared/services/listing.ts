import type { ServiceConfig } from '../config/schema.ts';
import { redactUrl, redactUrlsIn } from '../redact.ts';
import type { HealthStatus, ServiceHealth } from './health.ts';

/** One entry of `GET /api/services` and `aegis status --json`: credentials in URLs as `***` (SPEC §15). */
export interface ServiceListing {
  key: string;
  name: string;
  description: string;
  url: string;
  features: string[];
  status: HealthStatus;
  latency_ms: number;
  error: string | null;
}

export function serviceListing(
  services: Readonly<Record<string, ServiceConfig>>,
  health: readonly ServiceHealth[],
): ServiceListing[] {
  return health.flatMap((h) => {
    const service = services[h.service];
    if (!service) return [];
    return [
      {
        key: h.service,
        name: service.name,
        description: service.description,
        url: redactUrl(service.url),
        features: service.features,
        status: h.status,
        latency_ms: h.latency_ms,
        error: h.error === null ? null : redactUrlsIn(h.error),
      },
    ];
  });
}
