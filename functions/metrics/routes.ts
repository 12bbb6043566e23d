import { defineRoute, type RouteDefinition, streamReply } from '#shared/http-api/route.ts';

export const metricsRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/metrics',
    access: 'read',
    tag: 'meta',
    summary: 'Prometheus metrics of this process (the text exposition format)',
    description: `Counters and histograms count what this process did (runs, steps, HTTP requests, webhook
attempts); the queue and outbox gauges read the database at scrape time, so every host reports the same;
Node's process metrics come with them. Needs the \`read\` scope when \`auth.protect_reads\` is on.
On Lambda each instance counts only its own invocations: see infra/README.md for what to use there.`,
    responses: {
      200: {
        description: 'The metrics, in the Prometheus text format 0.0.4.',
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
      },
    },
    handle: async (_input, { metrics }) => {
      const text = await metrics.exposition();
      // Not JSON: the answer is written as the text format's own media type.
      return streamReply((_req, res) => {
        res.statusCode = 200;
        res.setHeader('content-type', metrics.contentType);
        res.setHeader('cache-control', 'no-store');
        res.end(text);
      });
    },
  }),
];
