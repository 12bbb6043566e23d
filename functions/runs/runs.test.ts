import { describe, expect, it } from 'vitest';
import type { HistoryRecordDetail } from '#shared/history/history-store.ts';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { FUNCTIONS } from '../index.ts';

/** The run routes and the start route, over one context that executes runs inline (as Lambda does). */
async function api(extraWorkflows = '', routes = QA_AGENT_ROUTES) {
  const qa = await stubForTest(routes);
  const test = testContext(`
event_log_size: 1000
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke:
    name: Smoke
    steps: [{ type: discover, service: qaagent }, { type: report, service: qaagent }]
${extraWorkflows}
`);
  const runs = createApiHandler(test.context, FUNCTIONS.runs);
  const workflows = createApiHandler(test.context, FUNCTIONS.workflows);
  return { ...test, qa, runs, workflows };
}

type Api = Awaited<ReturnType<typeof api>>;

function startAsync(a: Api, workflow = 'smoke', headers: Record<string, string> = {}) {
  return invokeHandler(a.workflows, {
    method: 'POST',
    path: `/api/workflows/${workflow}/run`,
    headers: { prefer: 'respond-async', ...headers },
  });
}

async function record(a: Api, runId: string, query = ''): Promise<HistoryRecordDetail> {
  return (await invokeHandler(a.runs, { path: `/api/runs/${runId}`, query }))
    .json as HistoryRecordDetail;
}

describe('starting a run asynchronously', () => {
  it('answers 202 at once with the run, its url and Location; the run waits queued', async () => {
    const a = await api();
    const answer = await startAsync(a);

    expect(answer.status).toBe(202);
    const body = answer.json as { run_id: string; status: string; url: string };
    expect(body).toEqual({
      run_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'queued',
      url: `/api/runs/${body.run_id}`,
    });
    expect(answer.headers.location).toBe(body.url);
    expect(answer.headers['preference-applied']).toBe('respond-async');
    expect(await record(a, body.run_id)).toMatchObject({
      status: 'queued',
      trigger: 'api',
      started_at: null,
    });
    expect(a.qa.calls('GET /api/routes')).toHaveLength(0);
  });

  it('takes ?async=true as Prefer does, and refuses ?async=maybe', async () => {
    const a = await api();
    const viaQuery = await invokeHandler(a.workflows, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      query: 'async=true',
    });
    expect(viaQuery.status).toBe(202);
    const bad = await invokeHandler(a.workflows, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      query: 'async=maybe',
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/'async': must be true or false/);
  });

  it('takes an empty body or a JSON object, and refuses any other JSON with 400', async () => {
    const a = await api();
    for (const body of ['[]', '"run"', '42']) {
      const answer = await invokeHandler(a.workflows, {
        method: 'POST',
        path: '/api/workflows/smoke/run',
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
        body,
      });
      expect(answer.status, body).toBe(400);
      expect((answer.json as { message: string }).message).toMatch(/body: must be a JSON object/);
    }
    const text = await invokeHandler(a.workflows, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      headers: { 'content-type': 'text/plain' },
      body: 'please run',
    });
    expect(text.status).toBe(415);
  });
});

describe('Idempotency-Key', () => {
  it('answers the same run to a retry, 409 for the same key on another workflow, 400 for a bad key', async () => {
    const a = await api(`  other:
    name: Other
    steps: [{ type: report, service: qaagent }]`);
    const first = await startAsync(a, 'smoke', { 'idempotency-key': 'release-7' });
    const retry = await startAsync(a, 'smoke', { 'idempotency-key': 'release-7' });
    const elsewhere = await startAsync(a, 'other', { 'idempotency-key': 'release-7' });

    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect((retry.json as { run_id: string }).run_id).toBe(
      (first.json as { run_id: string }).run_id,
    );
    expect(elsewhere.status).toBe(409);
    for (const key of ['', 'x'.repeat(201), 'naïve']) {
      const bad = await startAsync(a, 'smoke', { 'idempotency-key': key });
      expect(bad.status, JSON.stringify(key)).toBe(400);
      expect((bad.json as { message: string }).message).toMatch(/Idempotency-Key/);
    }
  });

  it('answers 200 with the result once the run it started has ended, sync or async', async () => {
    const a = await api();
    const sync = await invokeHandler(a.workflows, {
      method: 'POST',
      path: '/api/workflows/smoke/run',
      headers: { 'idempotency-key': 'nightly-2026-12-01' },
    });
    expect(sync.status).toBe(200);
    const again = await startAsync(a, 'smoke', { 'idempotency-key': 'nightly-2026-12-01' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({
      run_id: (sync.json as { run_id: string }).run_id,
      status: 'completed',
      success: true,
    });
    expect(a.qa.calls('GET /api/routes')).toHaveLength(1);
  });
});

describe('GET /api/runs/{run_id}?wait=S', () => {
  it('answers as soon as the run has ended', async () => {
    const a = await api();
    const { run_id } = (await startAsync(a)).json as { run_id: string };
    const waiting = record(a, run_id, 'wait=10');
    const started = performance.now();
    await (await a.context.runs()).execute(run_id);

    expect(await waiting).toMatchObject({ run_id, status: 'completed', step_count: 2 });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('answers after S seconds with the run as it stands', async () => {
    const a = await api();
    const { run_id } = (await startAsync(a)).json as { run_id: string };
    const started = performance.now();
    expect(await record(a, run_id, 'wait=0.3')).toMatchObject({ status: 'queued' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it.each(['0', '61', '-1', 'soon', '1e1', ''])('refuses wait=%s with a 400', async (wait) => {
    const a = await api();
    const answer = await invokeHandler(a.runs, { path: '/api/runs/any', query: `wait=${wait}` });
    expect(answer.status).toBe(400);
    expect((answer.json as { message: string }).message).toMatch(/query parameter 'wait'/);
  });

  it('is a 404 for an unknown run, waiting or not', async () => {
    const a = await api();
    for (const query of ['', 'wait=1'])
      expect((await invokeHandler(a.runs, { path: '/api/runs/nope', query })).json).toEqual({
        error: 'not_found',
        message: 'no run with id "nope"',
      });
  });
});

describe('cancel', () => {
  it('cancels a queued run at once (202 with the record, workflow.cancelled), and 409s once it has ended', async () => {
    const a = await api();
    const { run_id } = (await startAsync(a)).json as { run_id: string };

    const cancelled = await invokeHandler(a.runs, {
      method: 'POST',
      path: `/api/runs/${run_id}/cancel`,
    });
    const again = await invokeHandler(a.runs, {
      method: 'POST',
      path: `/api/runs/${run_id}/cancel`,
    });

    expect(cancelled.status).toBe(202);
    expect(cancelled.json).toMatchObject({
      run_id,
      status: 'cancelled',
      reason: 'cancelled through the API',
    });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      error: 'conflict',
      message: `run ${run_id} has already ended (cancelled)`,
    });
    const events = await (await a.context.stores()).events.list({ limit: 10 });
    expect(events.map((e) => [e.event_type, e.run_id, e.data])).toEqual([
      ['workflow.cancelled', run_id, { reason: 'cancelled through the API' }],
    ]);
    const unknown = await invokeHandler(a.runs, { method: 'POST', path: '/api/runs/nope/cancel' });
    expect(unknown.status).toBe(404);
  });

  it('stops a running run within a second: the request in flight is aborted, no later step starts', async () => {
    const a = await api(
      `  slow:
    name: Slow
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, timeout: 60 }
      - { type: report, service: qaagent }`,
      { ...QA_AGENT_ROUTES, 'POST /api/runs': { delayMs: 30_000 } },
    );
    const { run_id } = (await startAsync(a, 'slow')).json as { run_id: string };
    const execution = (await a.context.runs()).execute(run_id);
    await expect.poll(() => a.qa.calls('POST /api/runs').length).toBe(1);

    const asked = performance.now();
    const answer = await invokeHandler(a.runs, {
      method: 'POST',
      path: `/api/runs/${run_id}/cancel`,
    });
    const result = await execution;

    expect(answer.status).toBe(202);
    expect(performance.now() - asked).toBeLessThan(1_000);
    expect(result).toMatchObject({
      status: 'cancelled',
      success: false,
      reason: 'cancelled through the API',
    });
    await expect.poll(() => a.qa.calls('POST /api/runs')[0]?.aborted).toBe(true);
    expect(await record(a, run_id)).toMatchObject({
      status: 'cancelled',
      step_count: 1,
      steps: [{ step_type: 'discover', success: true }],
    });
    const types = (await (await a.context.stores()).events.list({ limit: 20 }))
      .map((e) => e.event_type)
      .reverse();
    expect(types).toEqual(['workflow.started', 'step.completed', 'workflow.cancelled']);
  });
});

describe('rerun', () => {
  const FLAKY = `  flaky:
    name: Flaky
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: report, service: qaagent }`;

  it('from the failed step: earlier steps are copied (reused, not called), the rest run anew', async () => {
    const a = await api(FLAKY, {
      ...QA_AGENT_ROUTES,
      'POST /api/runs': (_request, call) =>
        call === 1 ? { status: 503 } : { body: { total: 1, passed: 1, failed: 0 } },
    });
    const parent = await a.context.runWorkflow('flaky');
    expect(parent.steps.map((s) => s.success)).toEqual([true, false, true]);

    const started = await invokeHandler(a.runs, {
      method: 'POST',
      path: `/api/runs/${parent.run_id}/rerun`,
    });
    const { run_id } = started.json as { run_id: string };
    const rerun = await (await a.context.runs()).execute(run_id);

    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`/api/runs/${run_id}`);
    expect(rerun).toMatchObject({ status: 'completed', success: true });
    expect(rerun.steps.map((s) => [s.step_type, s.success, s.reused === true])).toEqual([
      ['discover', true, true],
      ['test', true, false],
      ['report', true, false],
    ]);
    expect(a.qa.calls('GET /api/routes')).toHaveLength(1); // discover was not called again
    expect(a.qa.calls('POST /api/runs')).toHaveLength(2);
    expect(await record(a, run_id)).toMatchObject({
      trigger: 'rerun',
      parent_run_id: parent.run_id,
      steps: [{ reused: true }, { reused: false }, { reused: false }],
    });
    // The parent is never changed.
    expect(await record(a, parent.run_id)).toMatchObject({ success: false, parent_run_id: null });
  });

  it('from the start calls every step again; a run with no failed step reruns from the start too', async () => {
    const a = await api();
    const parent = await a.context.runWorkflow('smoke');
    for (const body of ['{"from": "start"}', '']) {
      const started = await invokeHandler(a.runs, {
        method: 'POST',
        path: `/api/runs/${parent.run_id}/rerun`,
        headers: { 'content-type': 'application/json' },
        body,
      });
      const rerun = await (await a.context.runs()).execute(
        (started.json as { run_id: string }).run_id,
      );
      expect(rerun.steps.every((s) => !s.reused)).toBe(true);
    }
    expect(a.qa.calls('GET /api/routes')).toHaveLength(3);
  });

  it('is a 409 while the parent has not ended, a 404 for an unknown run, a 400 for another from', async () => {
    const a = await api();
    const { run_id } = (await startAsync(a)).json as { run_id: string };
    const early = await invokeHandler(a.runs, {
      method: 'POST',
      path: `/api/runs/${run_id}/rerun`,
    });
    expect(early.status).toBe(409);
    expect((early.json as { message: string }).message).toMatch(/is queued: only an ended run/);
    expect(
      (await invokeHandler(a.runs, { method: 'POST', path: '/api/runs/nope/rerun' })).status,
    ).toBe(404);
    const bad = await invokeHandler(a.runs, {
      method: 'POST',
      path: `/api/runs/${run_id}/rerun`,
      headers: { 'content-type': 'application/json' },
      body: '{"from": "middle"}',
    });
    expect(bad.status).toBe(400);
  });
});

describe('concurrency, through the API', () => {
  it('reject answers 409 and records nothing; queue_timeout cancels a run that waited too long', async () => {
    const a = await api(`  single:
    name: One at a time
    concurrency: { limit: 1, on_conflict: reject }
    steps: [{ type: report, service: qaagent }]
  patient:
    name: Waits a little
    concurrency: { limit: 1 }
    queue_timeout: 0.2
    steps: [{ type: report, service: qaagent }]`);
    expect((await startAsync(a, 'single')).status).toBe(202);
    const refused = await startAsync(a, 'single');
    expect(refused.status).toBe(409);
    expect((refused.json as { message: string }).message).toMatch(/concurrency limit/);
    const history = (await a.context.stores()).history;
    expect(await history.listRuns({ workflow: 'single' })).toHaveLength(1);

    const { run_id } = (await startAsync(a, 'patient')).json as { run_id: string };
    await new Promise((resolve) => setTimeout(resolve, 250));
    await (await a.context.runs()).reconcile();
    expect(await record(a, run_id)).toMatchObject({ status: 'cancelled', reason: 'queue timeout' });
  });
});
