import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import { AegisContext } from '#shared/context.ts';
import { checkAllServices } from '#shared/services/health.ts';
import { drainDue } from '#shared/webhooks/drain.ts';
import { captureLogger, tempDir } from '#test/support/temp.ts';
import { DEFAULT_DEMO_WEBHOOK_SECRET } from './start.ts';
import { call, startForTest } from './test-client.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

/** Both sides share one environment, as they would share a shell: keys and webhook secret on. */
const SHARED_ENV = {
  QAAGENT_API_KEY: 'qa-key',
  BUGALIZER_API_KEY: 'bug-key',
  AEGIS_DEMO_WEBHOOK_SECRET: 'whsec_demo',
};

/** examples/demo.aegis.yaml, pointed at services on ephemeral ports, with its history in a temp dir. */
async function demoContext(
  urls: { qaAgentUrl: string; bugTrackerUrl: string },
  shared: Record<string, string> = SHARED_ENV,
) {
  const text = readFileSync(join(EXAMPLES, 'demo.aegis.yaml'), 'utf8')
    .replaceAll('http://localhost:8080', urls.qaAgentUrl)
    .replaceAll('http://localhost:8090', urls.bugTrackerUrl);
  const dir = tempDir();
  const env = { ...shared, AEGIS_DB_PATH: join(dir, 'history.db') };
  const loaded = parseConfig(text, join(dir, 'demo.aegis.yaml'), env, dir);
  const { logger } = captureLogger('WARN');
  const context = new AegisContext({
    config: loaded.config,
    configSource: loaded.source,
    env,
    logger,
  });
  onTestFinished(() => context.close());
  return context;
}

describe('Aegis against the demo services', () => {
  it('runs full_pipeline: 2 failures found, reported, then verified', async () => {
    const services = await startForTest(SHARED_ENV);
    const context = await demoContext(services);

    const health = await checkAllServices(context.config.services, { env: context.env });
    expect(health.map((h) => [h.service, h.status])).toEqual([
      ['qaagent', 'healthy'],
      ['bugalizer', 'healthy'],
    ]);

    const result = await context.runWorkflow('full_pipeline');
    expect(result.success).toBe(true);
    expect(
      result.steps.map((s) => [s.step_type, s.service, s.success, s.skipped, s.error]),
    ).toEqual([
      ['discover', 'qaagent', true, false, null],
      ['test', 'qaagent', true, false, null],
      ['submit_bugs', 'bugalizer', true, false, null],
      ['verify', 'qaagent', true, false, null],
      ['report', 'qaagent', true, false, null],
    ]);
    const [discover, test, submit, verify, report] = result.steps;
    expect(discover?.data.route_count).toBe(8);
    expect(test?.data).toMatchObject({ total: 12, passed: 10, failed: 2 });
    expect(submit?.data).toMatchObject({ submitted: 2, response: { created: 2, duplicates: 0 } });
    expect(verify?.data).toMatchObject({ total: 12, passed: 12, failed: 0, verify_only: true });
    expect(report?.data.summary).toEqual({ passed: 4, failed: 0, skipped: 0, total: 4 });

    const reports = await call(services.bugTrackerUrl, 'GET', '/api/v1/reports', {
      headers: { 'x-api-key': SHARED_ENV.BUGALIZER_API_KEY },
    });
    expect(reports.json).toMatchObject({
      count: 2,
      reports: [
        { id: 'BUG-1', test: 'test_add_to_cart_rejects_zero_quantity', status: 'open' },
        { id: 'BUG-2', test: 'test_checkout_applies_discount_code', severity: 'high' },
      ],
    });
    expect(services.log.filter((line) => line.includes(' 401 '))).toEqual([]);
  });

  it.each([
    ['a secret both shells set', SHARED_ENV],
    ['no variable set at all: the demo default on both sides', {}],
  ])(
    "delivers the run's signed webhooks, verified by the demo receiver, with %s",
    async (_, env) => {
      const services = await startForTest(env);
      const context = await demoContext(services, env);
      const result = await context.runWorkflow('full_pipeline');

      const { outbox } = await context.stores();
      const sent = await drainDue({
        outbox,
        webhooks: context.config.webhooks,
        logger: context.logger,
        runId: result.run_id,
      });
      expect(sent).toMatchObject({ delivered: 7, failed: 0, retrying: 0 });

      const received = await call(services.webhookUrl, 'GET', '', {
        headers: 'BUGALIZER_API_KEY' in env ? { 'x-api-key': env.BUGALIZER_API_KEY } : {},
      });
      const deliveries = (received.json as { deliveries: Record<string, unknown>[] }).deliveries;
      // Sent concurrently, so they may arrive in any order.
      expect(deliveries.map((d) => d.event_type).sort()).toEqual([
        ...Array(5).fill('step.completed'),
        'workflow.completed',
        'workflow.started',
      ]);
      for (const delivery of deliveries)
        expect(delivery).toMatchObject({
          run_id: result.run_id,
          workflow_name: 'full_pipeline',
          signature: 'verified',
          webhook_id: expect.any(String),
          user_agent: expect.stringMatching(/^Aegis\//),
        });
    },
  );

  it('runs smoke: test and verify side by side, both finding the unreported failures', async () => {
    const services = await startForTest();
    const context = await demoContext(services);
    const result = await context.runWorkflow('smoke');
    expect(result.steps.map((s) => [s.step_type, s.success])).toEqual([
      ['discover', true],
      ['test', true],
      ['verify', true],
      ['report', true],
    ]);
    expect(result.steps[1]?.data).toMatchObject({ failed: 2 });
    expect(result.steps[2]?.data).toMatchObject({ failed: 2, verify_only: true });
  });

  it('keeps examples/demo.compose.aegis.yaml valid, pointing at the demo-services container', () => {
    const dir = tempDir();
    const text = readFileSync(join(EXAMPLES, 'demo.compose.aegis.yaml'), 'utf8');
    const { config, warnings } = parseConfig(text, join(dir, 'x.yaml'), {}, dir);
    expect(warnings).toEqual([]);
    // The same default secret as the demo services', so the compose demo's webhooks verify too.
    expect(config.webhooks[0]?.secret).toBe(DEFAULT_DEMO_WEBHOOK_SECRET);
    expect(config.services.qaagent?.url).toBe('http://demo-services:8080');
    expect(config.services.bugalizer?.url).toBe('http://demo-services:8090');
    expect(config.webhooks[0]?.url).toBe('http://demo-services:8090/api/v1/webhooks');
    expect(Object.keys(config.workflows)).toEqual(['full_pipeline', 'smoke']);
  });
});
