import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { eventually, startTestHost } from '#test/support/host.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import {
  hasPromtool,
  parseExposition,
  promtoolCheck,
  type Scrape,
  sample,
  scrape,
  seriesValue,
} from '#test/support/prometheus.ts';
import { claimRun, queueRun } from '#test/support/runs.ts';
import { QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { tempDir } from '#test/support/temp.ts';
import { FUNCTIONS } from '../index.ts';

const workflows = `
workflows:
  smoke:
    name: Smoke
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, retries: 1, retry_delay: 0.01 }
  broken:
    name: Broken
    steps: [{ type: discover, service: down }]
`;

async function setup(extra = '', env: Record<string, string> = {}) {
  const qa = await stubForTest({
    ...QA_AGENT_ROUTES,
    // Fails once, then passes: one failed and one successful attempt.
    'POST /api/runs': (_r, call) =>
      call % 2 === 1 ? { status: 503 } : { body: { total: 1, passed: 1, failed: 0 } },
  });
  const host = await startTestHost(
    `${extra}
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  down: { name: Down, url: "http://127.0.0.1:9" }
${workflows}`,
    { env },
  );
  return { qa, ...host };
}

const run = (url: string, workflow: string) =>
  fetch(`${url}/api/workflows/${workflow}/run`, { method: 'POST' }).then((r) => r.json());

/** Every sample's label values, to show no raw path or id slipped into a label. */
function labelValues({ families }: Scrape): string[] {
  return [...families.values()].flatMap((f) =>
    f.metrics.flatMap((m) => Object.values(m.labels ?? {})),
  );
}

describe('GET /metrics', () => {
  it('counts runs by outcome, steps and attempts by type, and times them', async () => {
    // Prepare
    const { url } = await setup();
    // Act
    await run(url, 'smoke');
    await run(url, 'smoke');
    await run(url, 'broken');
    const scraped = await scrape(url);
    // Assess
    expect(seriesValue(scraped, 'aegis_runs_total', { workflow: 'smoke', status: 'success' })).toBe(
      2,
    );
    expect(
      seriesValue(scraped, 'aegis_runs_total', { workflow: 'broken', status: 'failure' }),
    ).toBe(1);
    const attempts = (outcome: string) =>
      seriesValue(scraped, 'aegis_step_attempts_total', {
        workflow: 'smoke',
        step_type: 'test',
        outcome,
      });
    expect([attempts('success'), attempts('failure')]).toEqual([2, 2]);
    expect(seriesValue(scraped, 'aegis_run_duration_seconds_count', { workflow: 'smoke' })).toBe(2);
    expect(
      seriesValue(scraped, 'aegis_run_duration_seconds_bucket', { workflow: 'smoke', le: '+Inf' }),
    ).toBe(2);
    expect(
      seriesValue(scraped, 'aegis_step_duration_seconds_count', {
        workflow: 'smoke',
        step_type: 'discover',
      }),
    ).toBe(2);
    expect(scraped.types.get('aegis_run_duration_seconds')).toBe('HISTOGRAM');
    expect(scraped.types.get('aegis_runs_total')).toBe('COUNTER');
    expect(scraped.types.get('aegis_runs_queued')).toBe('GAUGE');
    // Node's process metrics come along.
    expect(scraped.families.has('process_cpu_seconds_total')).toBe(true);
    expect(scraped.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('labels requests with the route template, never the raw path', async () => {
    // Prepare
    const { url } = await setup();
    const { run_id } = (await run(url, 'smoke')) as { run_id: string };
    // Act
    await fetch(`${url}/api/runs/${run_id}`);
    await fetch(`${url}/api/runs/no-such-run`);
    await fetch(`${url}/no/such/path/${run_id}`);
    await fetch(`${url}/health`);
    const scraped = await scrape(url);
    // Assess
    const requests = (route: string, status: string, method = 'GET') =>
      seriesValue(scraped, 'aegis_http_requests_total', { method, route, status });
    expect(requests('/api/runs/{run_id}', '200')).toBe(1);
    expect(requests('/api/runs/{run_id}', '404')).toBe(1);
    expect(requests('/api/workflows/{name}/run', '200', 'POST')).toBe(1);
    expect(requests('unmatched', '404')).toBe(1);
    expect(requests('/health', '200')).toBe(1);
    expect(
      seriesValue(scraped, 'aegis_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/runs/{run_id}',
      }),
    ).toBe(2);
    const values = labelValues(scraped);
    expect(values.some((v) => v.includes(run_id) || v.includes('no-such'))).toBe(false);
  });

  it('passes promtool check metrics', async (ctx) => {
    if (!hasPromtool()) {
      // CI installs it (.ci/run); elsewhere say why this is not checked.
      if (process.env.CI)
        throw new Error('promtool is missing: .ci/run installs package prometheus');
      ctx.skip();
    }
    // Prepare: every metric with samples.
    const { url } = await setup(`webhooks: [{ url: "http://127.0.0.1:9/hook" }]`);
    await run(url, 'smoke');
    await run(url, 'broken');
    await fetch(`${url}/api/services`);
    await fetch(`${url}/nope`);
    // Act
    const { text } = await scrape(url);
    const checked = promtoolCheck(text);
    // Assess
    expect(checked.problems).toBe('');
    expect(checked.status).toBe(0);
    expect(text).toMatch(/^aegis_service_up\{service="down"\} 0$/m);
    expect(text).toMatch(/^aegis_service_up\{service="qaagent"\} 1$/m);
  });

  it('reads the queue and the outbox from the database: two hosts on one file say the same', async () => {
    // Prepare: two hosts that execute nothing, on one database.
    const db = join(tempDir(), 'shared.db');
    const yaml = `history_db_path: ${db}
webhooks: [{ url: "http://127.0.0.1:9/hook", events: ["*"] }]
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
  down: { name: Down, url: "http://127.0.0.1:9" }
${workflows}`;
    const env = { AEGIS_RUN_WORKERS: '0' };
    const first = await startTestHost(yaml, { env });
    const second = await startTestHost(yaml, { env });
    const stores = await first.context.stores();
    for (let i = 0; i < 3; i++) await queueRun(stores, 'smoke');
    await queueRun(stores, 'broken');
    await claimRun(stores, await queueRun(stores, 'smoke'));
    // An event with its delivery; nobody can deliver it to port 9, so it stays pending.
    await (await first.context.runs()).cancel(await queueRun(stores, 'broken'), 'by the test');
    // Act
    const [a, b] = [await scrape(first.url), await scrape(second.url)];
    // Assess
    const counts = await stores.db.execute(
      `SELECT
         (SELECT COUNT(*) FROM runs WHERE status = 'queued' AND workflow_name = 'smoke') AS smoke_queued,
         (SELECT COUNT(*) FROM runs WHERE status = 'queued' AND workflow_name = 'broken') AS broken_queued,
         (SELECT COUNT(*) FROM runs WHERE status = 'running') AS running,
         (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending') AS pending`,
    );
    const [found] = counts.rows;
    const row = {
      smoke_queued: Number(found?.smoke_queued),
      broken_queued: Number(found?.broken_queued),
      running: Number(found?.running),
      pending: Number(found?.pending),
    };
    expect(row).toEqual({ smoke_queued: 3, broken_queued: 1, running: 1, pending: 1 });
    for (const scraped of [a, b]) {
      expect(seriesValue(scraped, 'aegis_runs_queued', { workflow: 'smoke' })).toBe(
        row.smoke_queued,
      );
      expect(seriesValue(scraped, 'aegis_runs_queued', { workflow: 'broken' })).toBe(
        row.broken_queued,
      );
      expect(seriesValue(scraped, 'aegis_runs_running', { workflow: 'smoke' })).toBe(row.running);
      expect(sample(scraped, 'aegis_runs_running', { workflow: 'broken' })?.value).toBe('0');
      expect(seriesValue(scraped, 'aegis_webhook_outbox_pending')).toBe(row.pending);
    }
  });

  it('counts webhook attempts by outcome', async () => {
    // Prepare
    const receiver = await stubForTest({
      'POST /ok': { body: {} },
      'POST /flaky': { status: 503 },
    });
    const { url } = await setup(`webhooks:
  - { url: "${receiver.url}/ok", events: ["workflow.completed"] }
  - { url: "${receiver.url}/flaky", events: ["workflow.completed"] }`);
    // Act
    await run(url, 'smoke');
    const scraped = await eventually(
      async () => {
        const s = await scrape(url);
        return seriesValue(s, 'aegis_webhook_deliveries_total', { outcome: 'retried' }) >= 1
          ? s
          : undefined;
      },
      5_000,
      'both attempts',
    );
    // Assess
    expect(seriesValue(scraped, 'aegis_webhook_deliveries_total', { outcome: 'delivered' })).toBe(
      1,
    );
    expect(seriesValue(scraped, 'aegis_webhook_deliveries_total', { outcome: 'retried' })).toBe(1);
  });

  it('needs a read key when protect_reads is on', async () => {
    // Prepare
    const { url } = await setup(`auth:
  protect_reads: true
  keys:
    - { name: prometheus, key: scrape-key-1, scopes: [read] }`);
    // Act
    const anonymous = await fetch(`${url}/metrics`);
    const scraped = await scrape(url, { 'x-api-key': 'scrape-key-1' });
    // Assess
    expect(anonymous.status).toBe(401);
    expect(scraped.families.has('aegis_runs_total')).toBe(true);
  });

  it('answers on Lambda too, each instance with its own counts', async () => {
    // Prepare
    const { context } = testContext(`services: {}\n`);
    const handler = createApiHandler(context, FUNCTIONS.metrics);
    // Act
    const answer = await invokeHandler(handler, { path: '/metrics' });
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const scraped = parseExposition(answer.body);
    expect(seriesValue(scraped, 'aegis_webhook_outbox_pending')).toBe(0);
    expect(seriesValue(scraped, 'aegis_http_requests_total', { route: '/metrics' })).toBe(0);
  });
});
