import { describe, expect, it } from 'vitest';
import type { Environment } from '#shared/env.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  startStub,
  stubForTest,
} from '#test/support/stub-service.ts';
import { configFrom } from '#test/support/temp.ts';
import { runWorkflow } from './run-workflow.ts';
import type { RunResult } from './types.ts';

/** Each stub lives for the test that starts it. */
const stub = stubForTest;

/** Runs one workflow of `steps` over services given as URLs or config objects, through the real config schema. */
async function run(
  services: Record<string, string | Record<string, unknown>>,
  steps: Record<string, unknown>[],
  env: Environment = {},
): Promise<RunResult> {
  const config = configFrom(
    JSON.stringify({
      services: Object.fromEntries(
        Object.entries(services).map(([key, s]) => [
          key,
          typeof s === 'string' ? { name: key, url: s } : { name: key, ...s },
        ]),
      ),
      workflows: { wf: { name: 'Steps under test', steps } },
    }),
  );
  const workflow = config.workflows.wf;
  if (!workflow) throw new Error('workflow missing');
  return runWorkflow({ key: 'wf', workflow, services: config.services, env });
}

describe('discover', () => {
  it('GETs /api/routes and returns routes and route_count', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { steps } = await run({ qaagent: qa.url }, [{ type: 'discover', service: 'qaagent' }]);
    expect(steps[0]).toMatchObject({
      step_type: 'discover',
      service: 'qaagent',
      success: true,
      skipped: false,
      error: null,
      data: {
        routes: [
          { method: 'GET', path: '/users' },
          { method: 'POST', path: '/users' },
        ],
        route_count: 2,
      },
    });
    const [request] = qa.calls('GET /api/routes');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toBe('');
    expect(qa.requests).toHaveLength(1);
  });

  it.each([
    ['without a routes array', { body: { count: 2 } }, 'response has no "routes" list'],
    [
      'with routes that is not a list',
      { body: { routes: 'all' } },
      'response has no "routes" list',
    ],
    ['with a JSON array instead of an object', { body: [] }, 'response has no "routes" list'],
    ['with JSON null', { raw: 'null' }, 'response has no "routes" list'],
  ])('fails on an answer %s', async (_name, answer, cause) => {
    const qa = await stub({ 'GET /api/routes': answer });
    const { steps, success } = await run({ qaagent: qa.url }, [
      { type: 'discover', service: 'qaagent' },
    ]);
    expect(success).toBe(false);
    expect(steps[0]).toMatchObject({
      success: false,
      data: {},
      error: `qaagent GET /api/routes: ${cause}`,
    });
  });
});

describe('test', () => {
  it('POSTs {} to /api/runs and returns total, passed, failed and failures', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { steps, success } = await run({ qaagent: qa.url }, [
      { type: 'test', service: 'qaagent' },
    ]);
    // Reporting failing tests is the step doing its job: it succeeded.
    expect(success).toBe(true);
    expect(steps[0]).toMatchObject({
      success: true,
      data: {
        total: 3,
        passed: 2,
        failed: 1,
        failures: [{ test: 'test_create_user', error: 'expected 201, got 500' }],
      },
    });
    const [request] = qa.calls('POST /api/runs');
    expect(request?.json).toEqual({});
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('defaults absent numbers to 0 and absent failures to []', async () => {
    const qa = await stub({ 'POST /api/runs': { body: {} } });
    const { steps } = await run({ qaagent: qa.url }, [{ type: 'test', service: 'qaagent' }]);
    expect(steps[0]?.data).toEqual({ total: 0, passed: 0, failed: 0, failures: [] });
  });

  it.each([
    ['total', '{"total": "3"}', '"total" is not a number'],
    ['passed', '{"passed": true}', '"passed" is not a number'],
    ['failed', '{"failed": null}', '"failed" is not a number'],
    ['failed', '{"failed": 1e999}', '"failed" is not a number'],
    ['failures', '{"failures": "none"}', '"failures" is not a list'],
    ['failures', '{"failures": null}', '"failures" is not a list'],
    ['failures', '{"failures": {"a": 1}}', '"failures" is not a list'],
  ])('fails when %s is present with the wrong type: %s', async (_name, raw, cause) => {
    const qa = await stub({ 'POST /api/runs': { raw } });
    const { steps } = await run({ qaagent: qa.url }, [{ type: 'test', service: 'qaagent' }]);
    expect(steps[0]).toMatchObject({
      success: false,
      error: `qaagent POST /api/runs: ${cause}`,
    });
  });

  it('fails when the answer is not a JSON object', async () => {
    const qa = await stub({ 'POST /api/runs': { body: [1, 2] } });
    const { steps } = await run({ qaagent: qa.url }, [{ type: 'test', service: 'qaagent' }]);
    expect(steps[0]?.error).toBe('qaagent POST /api/runs: response is not a JSON object');
  });
});

describe('verify', () => {
  it('POSTs {"verify_only": true} and returns the counts plus verify_only', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { steps } = await run({ qaagent: qa.url }, [{ type: 'verify', service: 'qaagent' }]);
    expect(steps[0]).toMatchObject({
      success: true,
      data: { total: 3, passed: 3, failed: 0, failures: [], verify_only: true },
    });
    expect(qa.calls('POST /api/runs')[0]?.json).toEqual({ verify_only: true });
  });

  it('defaults and type-checks like test', async () => {
    const qa = await stub({
      'POST /api/runs': (_req, n) => (n === 1 ? { body: {} } : { body: { total: 'many' } }),
    });
    const { steps } = await run({ qaagent: qa.url }, [
      { type: 'verify', service: 'qaagent' },
      { type: 'verify', service: 'qaagent' },
    ]);
    expect(steps[0]?.data).toEqual({
      total: 0,
      passed: 0,
      failed: 0,
      failures: [],
      verify_only: true,
    });
    expect(steps[1]?.error).toBe('qaagent POST /api/runs: "total" is not a number');
  });
});

describe('submit_bugs', () => {
  it('POSTs every failures entry of earlier steps to /api/v1/reports', async () => {
    const qa = await stub({
      'POST /api/runs': (request) =>
        (request.json as { verify_only?: boolean }).verify_only
          ? { body: { failures: [{ test: 'c' }] } }
          : { body: { failures: [{ test: 'a' }, { test: 'b' }] } },
    });
    const bugs = await stub(BUG_TRACKER_ROUTES);
    const { steps } = await run({ qaagent: qa.url, bugalizer: bugs.url }, [
      { type: 'test', service: 'qaagent' },
      { type: 'verify', service: 'qaagent' },
      { type: 'submit_bugs', service: 'bugalizer' },
    ]);
    expect(steps[2]).toMatchObject({
      success: true,
      data: { submitted: 3, response: { created: 3 } },
    });
    const [request] = bugs.calls('POST /api/v1/reports');
    expect(request?.json).toEqual({ failures: [{ test: 'a' }, { test: 'b' }, { test: 'c' }] });
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('calls nothing when there are no failures, and succeeds with submitted: 0 and a message', async () => {
    const qa = await stub({ 'POST /api/runs': { body: { total: 1, passed: 1 } } });
    const bugs = await stub(BUG_TRACKER_ROUTES);
    const { steps } = await run({ qaagent: qa.url, bugalizer: bugs.url }, [
      { type: 'test', service: 'qaagent' },
      { type: 'submit_bugs', service: 'bugalizer' },
    ]);
    expect(steps[1]).toMatchObject({
      success: true,
      skipped: false,
      data: { submitted: 0, message: expect.any(String) },
    });
    expect(String(steps[1]?.data.message)).not.toBe('');
    expect(bugs.requests).toEqual([]);
  });

  it('calls nothing when it is the first step', async () => {
    const bugs = await stub(BUG_TRACKER_ROUTES);
    const { steps } = await run({ bugalizer: bugs.url }, [
      { type: 'submit_bugs', service: 'bugalizer' },
    ]);
    expect(steps[0]?.data.submitted).toBe(0);
    expect(bugs.requests).toEqual([]);
  });

  it('fails with the tracker named when it answers non-2xx', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const bugs = await stub({ 'POST /api/v1/reports': { status: 500 } });
    const { steps } = await run({ qaagent: qa.url, bugalizer: bugs.url }, [
      { type: 'test', service: 'qaagent' },
      { type: 'submit_bugs', service: 'bugalizer' },
    ]);
    expect(steps[1]).toMatchObject({
      success: false,
      error: 'bugalizer POST /api/v1/reports: HTTP 500',
    });
  });
});

describe('report', () => {
  it('summarises the earlier steps and calls nothing', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const bugs = await stub({ 'POST /api/v1/reports': { status: 503 } });
    const { steps, duration_ms } = await run({ qaagent: qa.url, bugalizer: bugs.url }, [
      { type: 'discover', service: 'qaagent' },
      { type: 'test', service: 'qaagent' },
      { type: 'submit_bugs', service: 'bugalizer' },
      { type: 'verify', service: 'qaagent', condition: 'on_success' },
      { type: 'report', service: 'qaagent' },
    ]);
    const report = steps[4];
    expect(report).toMatchObject({ step_type: 'report', success: true, error: null });
    expect(report?.data.summary).toEqual({ passed: 2, failed: 1, skipped: 1, total: 4 });
    expect(report?.data.steps).toEqual(
      steps.slice(0, 4).map((s) => ({
        step_type: s.step_type,
        service: s.service,
        success: s.success,
        skipped: s.skipped,
        duration_ms: s.duration_ms,
        error: s.error,
      })),
    );
    expect(report?.data.steps).toMatchObject([
      { step_type: 'discover', success: true, skipped: false, error: null },
      { step_type: 'test', success: true, skipped: false },
      {
        step_type: 'submit_bugs',
        service: 'bugalizer',
        success: false,
        error: 'bugalizer POST /api/v1/reports: HTTP 503',
      },
      { step_type: 'verify', success: true, skipped: true, duration_ms: 0, error: null },
    ]);
    const total = report?.data.total_duration_ms as number;
    const beforeReport = steps.slice(0, 4).reduce((sum, s) => sum + s.duration_ms, 0);
    expect(total).toBeGreaterThanOrEqual(beforeReport);
    expect(total).toBeLessThanOrEqual(duration_ms);
    // Only the steps' own calls: the report made none.
    expect(qa.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/routes',
      'POST /api/runs',
    ]);
  });

  it('reports an empty summary as the only step', async () => {
    const { steps } = await run({ qaagent: 'http://127.0.0.1:9' }, [
      { type: 'report', service: 'qaagent' },
    ]);
    expect(steps[0]?.data).toMatchObject({
      summary: { passed: 0, failed: 0, skipped: 0, total: 0 },
      steps: [],
    });
  });
});

describe('every HTTP step', () => {
  it.each([
    ['discover', 'GET /api/routes'],
    ['test', 'POST /api/runs'],
    ['verify', 'POST /api/runs'],
  ])('%s sends X-API-Key only when api_key_env names a set variable', async (type, route) => {
    const qa = await stub(QA_AGENT_ROUTES);
    const services = {
      keyed: { url: qa.url, api_key_env: 'QA_KEY' },
      unsetKey: { url: qa.url, api_key_env: 'QA_MISSING_KEY' },
      plain: { url: qa.url },
    };
    const result = await run(
      services,
      [
        { type, service: 'keyed' },
        { type, service: 'unsetKey' },
        { type, service: 'plain' },
      ],
      { QA_KEY: 'key-123' },
    );
    expect(result.success).toBe(true);
    const keys = qa.calls(route).map((r) => r.headers['x-api-key']);
    expect(keys).toEqual(['key-123', undefined, undefined]);
  });

  it('submit_bugs sends X-API-Key too', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const bugs = await stub(BUG_TRACKER_ROUTES);
    await run(
      { qaagent: qa.url, bugalizer: { url: bugs.url, api_key_env: 'BUGS_KEY' } },
      [
        { type: 'test', service: 'qaagent' },
        { type: 'submit_bugs', service: 'bugalizer' },
      ],
      { BUGS_KEY: 'b-key' },
    );
    expect(bugs.calls('POST /api/v1/reports')[0]?.headers['x-api-key']).toBe('b-key');
    expect(qa.calls('POST /api/runs')[0]?.headers['x-api-key']).toBeUndefined();
  });

  it.each([
    ['discover', 'GET /api/routes'],
    ['test', 'POST /api/runs'],
    ['verify', 'POST /api/runs'],
  ])(
    '%s names service, method, path and cause on a non-2xx, non-JSON body and refused connection',
    async (type, route) => {
      const qa = await stub({
        [route]: (_req, n) => (n === 1 ? { status: 503 } : { raw: 'oops' }),
      });
      const gone = await startStub();
      await gone.close();
      const { steps } = await run({ qaagent: qa.url, down: gone.url }, [
        { type, service: 'qaagent' },
        { type, service: 'qaagent' },
        { type, service: 'down' },
      ]);
      expect(steps.map((s) => s.error)).toEqual([
        `qaagent ${route}: HTTP 503`,
        `qaagent ${route}: response is not JSON`,
        `down ${route}: connection refused`,
      ]);
      expect(steps.every((s) => !s.success && !s.skipped)).toBe(true);
    },
  );
});
