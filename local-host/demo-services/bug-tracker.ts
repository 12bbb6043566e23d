import type { BugReportStore } from './bug-reports.ts';
import { type JsonService, objectBody } from './json-service.ts';
import type { WebhookInbox } from './webhook-inbox.ts';

export interface BugTrackerOptions {
  apiKey: string | undefined;
  reports: BugReportStore;
  webhooks: WebhookInbox;
}

/** The simulated bug tracker: failure reports, plus a receiver for Aegis's webhooks. */
export function bugTrackerService({ apiKey, reports, webhooks }: BugTrackerOptions): JsonService {
  return {
    name: 'bug-tracker',
    description: 'Simulated bug tracker with a webhook receiver (Aegis demo services).',
    apiKey,
    routes: [
      {
        method: 'GET',
        path: '/health',
        description: 'liveness: {status, service}',
        access: 'open',
        handle: () => ({ body: { status: 'ok', service: 'bug-tracker' } }),
      },
      {
        method: 'POST',
        path: '/api/v1/reports',
        description:
          'file {failures: [{test, route, error}]}: 201 {created, duplicates, reports}; one report per test',
        access: 'api-key',
        handle: (request) => ({ status: 201, body: reports.file(objectBody(request)) }),
      },
      {
        method: 'GET',
        path: '/api/v1/reports',
        description: 'the reports filed so far, oldest first: {count, reports}',
        access: 'api-key',
        handle: () => {
          const all = reports.list();
          return { body: { count: all.length, reports: all } };
        },
      },
      {
        method: 'POST',
        path: '/api/v1/webhooks',
        description:
          'receive an Aegis webhook delivery; its signature must verify (AEGIS_DEMO_WEBHOOK_SECRET, default aegis-demo-secret)',
        // Aegis sends webhooks without X-API-Key: a webhook is authenticated by its signature.
        access: 'open',
        handle: (request) => ({ status: 200, body: { received: webhooks.receive(request) } }),
      },
      {
        method: 'GET',
        path: '/api/v1/webhooks',
        description: 'the webhook deliveries received so far, newest first: {count, deliveries}',
        access: 'api-key',
        handle: () => {
          const all = webhooks.list();
          return { body: { count: all.length, deliveries: all } };
        },
      },
    ],
  };
}
