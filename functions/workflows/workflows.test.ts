import { describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, qaStubsForFile } from '#test/support/stub-service.ts';
import { FUNCTIONS } from '../index.ts';

const stubs = qaStubsForFile();

const config = (extra = '') => `
${extra}
services:
  qaagent: { name: QA Agent, url: "${stubs.qa.url}" }
  bugalizer: { name: Bug tracker, url: "${stubs.bugs.url}" }
workflows:
  full_pipeline:
    name: Full QA Pipeline
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, retries: 2, retry_delay: 0.01, timeout: 5 }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
      - { type: report, service: qaagent }
  smoke:
    name: Smoke
    steps: [{ type: discover, service: qaagent }]
`;

function workflowsHandler(extra = '', env: Record<string, string> = {}) {
  const test = testContext(config(extra), env);
  return {
    ...test,
    handler: createApiHandler(test.context, FUNCTIONS.workflows),
    runsHandler: createApiHandler(test.context, FUNCTIONS.runs),
  };
}

describe('workflows function', () => {
  it('lists the workflow definitions with every step setting', async () => {
    const { handler } = workflowsHandler();
    const answer = await invokeHandler(handler, { path: '/api/workflows' });
    expect(answer.status).toBe(200);
    const [full] = answer.json as { key: string; steps: unknown[] }[];
    expect(full).toEqual({
      key: 'full_pipeline',
      name: 'Full QA Pipeline',
      steps: [
        {
          type: 'discover',
          service: 'qaagent',
          condition: null,
          parallel: false,
          retries: 0,
          retry_delay: 1,
          timeout: 30,
        },
        {
          type: 'test',
          service: 'qaagent',
          condition: null,
          parallel: false,
          retries: 2,
          retry_delay: 0.01,
          timeout: 5,
        },
        {
          type: 'submit_bugs',
          service: 'bugalizer',
          condition: 'has_failures',
          parallel: false,
          retries: 0,
          retry_delay: 1,
          timeout: 30,
        },
        {
          type: 'report',
          service: 'qaagent',
          condition: null,
          parallel: false,
          retries: 0,
          retry_delay: 1,
          timeout: 30,
        },
      ],
    });
  });

  it('answers one workflow, and 404 naming the known ones for an unknown one', async () => {
    const { handler } = workflowsHandler();
    expect((await invokeHandler(handler, { path: '/api/workflows/smoke' })).json).toMatchObject({
      key: 'smoke',
      name: 'Smoke',
    });
    const missing = await invokeHandler(handler, { path: '/api/workflows/nope' });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: 'not_found',
      message: 'unknown workflow "nope" (known: full_pipeline, smoke)',
    });
  });

  it('runs a workflow on POST with a JSON body (Express 5 behind serverless-http) and records it', async () => {
    // Prepare
    const { handler, runsHandler } = workflowsHandler();
    // Act
    const run = await invokeHandler(handler, {
      method: 'POST',
      path: '/api/workflows/full_pipeline/run',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'from a test' }),
    });
    // Assess: the result of SPEC §3, and the same run in the history
    expect(run.status).toBe(200);
    const result = run.json as {
      run_id: string;
      success: boolean;
      steps: { step_type: string; success: boolean; data: Record<string, unknown> }[];
    };
    expect(result.success).toBe(true);
    expect(result.steps.map((s) => s.step_type)).toEqual([
      'discover',
      'test',
      'submit_bugs',
      'report',
    ]);
    expect(result.steps[2]?.data).toMatchObject({ submitted: 1 });
    const record = await invokeHandler(runsHandler, { path: `/api/runs/${result.run_id}` });
    expect(record.status).toBe(200);
    expect(record.json).toMatchObject({
      run_id: result.run_id,
      status: 'completed',
      success: true,
      step_count: 4,
      trigger: 'api',
      triggered_by: null,
    });
  });

  it('refuses a malformed JSON body with 400', async () => {
    const { handler } = workflowsHandler();
    const answer = await invokeHandler(handler, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: 'bad_request',
      message: 'request body is not valid JSON',
    });
  });

  it('answers 200 with the result when the run fails', async () => {
    const { handler } = workflowsHandler();
    stubs.qa.route('GET /api/routes', { status: 503 });
    try {
      const answer = await invokeHandler(handler, {
        method: 'POST',
        path: '/api/workflows/smoke/run',
      });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({
        success: false,
        steps: [{ error: 'qaagent GET /api/routes: HTTP 503' }],
      });
    } finally {
      stubs.qa.route('GET /api/routes', QA_AGENT_ROUTES['GET /api/routes'] ?? {});
    }
  });

  it("pages a workflow's history newest first, and filters it by status", async () => {
    const { handler, context } = workflowsHandler();
    const first = await context.runWorkflow('smoke');
    await context.runWorkflow('full_pipeline');
    const third = await context.runWorkflow('smoke');

    const smoke = (await invokeHandler(handler, { path: '/api/workflows/smoke/history' })).json as {
      run_id: string;
      steps: unknown[];
    }[];
    expect(smoke.map((r) => r.run_id)).toEqual([third.run_id, first.run_id]);
    expect(smoke[0]).toMatchObject({
      status: 'completed',
      step_count: 1,
      steps: [{ step_type: 'discover', attempts: 1, reused: false }],
    });
    const page = (
      await invokeHandler(handler, {
        path: '/api/workflows/smoke/history',
        query: 'limit=1&offset=1',
      })
    ).json as { run_id: string }[];
    expect(page.map((r) => r.run_id)).toEqual([first.run_id]);
    const cancelled = await invokeHandler(handler, {
      path: '/api/workflows/smoke/history',
      query: 'status=cancelled',
    });
    expect(cancelled.json).toEqual([]);
    const bad = await invokeHandler(handler, {
      path: '/api/workflows/smoke/history',
      query: 'status=done',
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toBe(
      'query parameter \'status\': must be one of queued, running, completed, cancelled, interrupted, got "done"',
    );
  });

  it.each([
    ['limit=abc', 'query parameter \'limit\': must be a decimal integer from 1 to 1000, got "abc"'],
    ['limit=0', 'query parameter \'limit\': must be a decimal integer from 1 to 1000, got "0"'],
    [
      'limit=1001',
      'query parameter \'limit\': must be a decimal integer from 1 to 1000, got "1001"',
    ],
    ['limit=2.5', 'query parameter \'limit\': must be a decimal integer from 1 to 1000, got "2.5"'],
    ['limit=1e3', 'query parameter \'limit\': must be a decimal integer from 1 to 1000, got "1e3"'],
    [
      'limit=0x10',
      'query parameter \'limit\': must be a decimal integer from 1 to 1000, got "0x10"',
    ],
    ['offset=', 'query parameter \'offset\': must be a decimal integer ≥ 0, got ""'],
    ['offset=-1', 'query parameter \'offset\': must be a decimal integer ≥ 0, got "-1"'],
    ['limt=5', "unknown query parameter 'limt'"],
  ])('refuses a workflow history ?%s with a 400 naming the parameter', async (query, message) => {
    const { handler } = workflowsHandler();
    const answer = await invokeHandler(handler, { path: '/api/workflows/smoke/history', query });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: 'bad_request', message });
  });

  it('answers 404 for an unknown workflow history', async () => {
    const { handler } = workflowsHandler();
    expect((await invokeHandler(handler, { path: '/api/workflows/nope/history' })).status).toBe(
      404,
    );
  });

  it('answers 405 for a path that exists for another method, and a JSON 404 for an unknown path', async () => {
    const { handler } = workflowsHandler();
    const wrongMethod = await invokeHandler(handler, {
      method: 'GET',
      path: '/api/workflows/smoke/run',
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    const unknown = await invokeHandler(handler, { path: '/api/nothing-here' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      error: 'not_found',
      message: 'no such path: /api/nothing-here',
    });
  });

  it('needs X-API-Key on POST when auth is on, and keeps reads open', async () => {
    const { handler } = workflowsHandler('auth: { api_key: s3cret-key }');
    const none = await invokeHandler(handler, { method: 'POST', path: '/api/workflows/smoke/run' });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: 'unauthorized', message: 'missing X-API-Key header' });
    const wrong = await invokeHandler(handler, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      headers: { 'x-api-key': 's3cret-kez' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain('s3cret');
    const right = await invokeHandler(handler, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      headers: { 'x-api-key': 's3cret-key' },
    });
    expect(right.status).toBe(200);
    expect((await invokeHandler(handler, { path: '/api/workflows' })).status).toBe(200);
  });

  it('answers 503 naming the path when the history database cannot be opened, 404 still for unknown workflows', async () => {
    const { handler } = workflowsHandler('', { AEGIS_DB_PATH: '/proc/aegis-no/history.db' });
    const history = await invokeHandler(handler, { path: '/api/workflows/smoke/history' });
    expect(history.status).toBe(503);
    expect(history.json).toEqual({
      error: 'service_unavailable',
      message: expect.stringContaining('/proc/aegis-no/history.db'),
    });
    expect(
      (await invokeHandler(handler, { method: 'POST', path: '/api/workflows/nope/run' })).status,
    ).toBe(404);
    expect((await invokeHandler(handler, { path: '/api/workflows' })).status).toBe(200);
  });
});
