import { describe, expect, it } from 'vitest';
import type { StepConfig } from '#shared/config/schema.ts';
import type { AegisEvent } from '#shared/events/types.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  type StubAnswer,
  type StubRoute,
  startStub,
  stubForTest,
} from '#test/support/stub-service.ts';
import { configFrom } from '#test/support/temp.ts';
import { batchesOf, type RunObserver, runWorkflow } from './run-workflow.ts';
import type { RunResult, StepResult } from './types.ts';

/** Each stub lives for the test that starts it. */
const stub = stubForTest;

interface RunOptions {
  observers?: RunObserver[];
  onObserverError?: (error: unknown) => void;
  runId?: string;
}

/** Runs `steps` over services given as URLs, through the real config schema; collects the events. */
async function run(
  services: Record<string, string>,
  steps: Record<string, unknown>[],
  options: RunOptions = {},
): Promise<{ result: RunResult; events: AegisEvent[] }> {
  const config = configFrom(
    JSON.stringify({
      services: Object.fromEntries(
        Object.entries(services).map(([key, url]) => [key, { name: key, url }]),
      ),
      workflows: { wf: { name: 'Engine under test', steps } },
    }),
  );
  const workflow = config.workflows.wf;
  if (!workflow) throw new Error('workflow missing');
  const events: AegisEvent[] = [];
  const result = await runWorkflow({
    key: 'wf',
    workflow,
    services: config.services,
    env: {},
    observers: [{ event: (event) => void events.push(event) }, ...(options.observers ?? [])],
    ...(options.onObserverError ? { onObserverError: options.onObserverError } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
  });
  return { result, events };
}

/** A route that records when each call arrived (performance.now()), then answers as `answer` says. */
function timed(times: number[], answer: (callNumber: number) => StubAnswer): StubRoute {
  return (_request, callNumber) => {
    times.push(performance.now());
    return answer(callNumber);
  };
}

describe('batchesOf', () => {
  const steps = (flags: boolean[]) =>
    flags.map((parallel) => ({ parallel }) as unknown as StepConfig);

  it('groups consecutive parallel steps; every other step is a batch of its own', () => {
    expect(batchesOf(steps([]))).toEqual([]);
    expect(batchesOf(steps([false, false]))).toEqual([[0], [1]]);
    expect(batchesOf(steps([true, true, false, true, true, true]))).toEqual([
      [0, 1],
      [2],
      [3, 4, 5],
    ]);
    expect(batchesOf(steps([false, true, false, true]))).toEqual([[0], [1], [2], [3]]);
  });
});

describe('the run result', () => {
  it('has run_id, workflow_name, success, times, duration and every step in full', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const before = Date.now();
    const { result } = await run({ qaagent: qa.url }, [
      { type: 'discover', service: 'qaagent' },
      { type: 'test', service: 'qaagent' },
    ]);
    expect(Object.keys(result).sort()).toEqual(
      [
        'completed_at',
        'duration_ms',
        'reason',
        'run_id',
        'started_at',
        'status',
        'steps',
        'success',
        'workflow_name',
      ].sort(),
    );
    expect(result).toMatchObject({ status: 'completed', reason: null });
    expect(result.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.workflow_name).toBe('wf');
    expect(result.success).toBe(true);
    expect(result.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(result.started_at)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(result.completed_at)).toBeGreaterThanOrEqual(Date.parse(result.started_at));
    expect(result.duration_ms).toBeGreaterThanOrEqual(
      result.steps.reduce((sum, s) => sum + s.duration_ms, 0) - 1,
    );
    for (const step of result.steps) {
      expect(Object.keys(step).sort()).toEqual(
        [
          'attempts',
          'data',
          'duration_ms',
          'error',
          'service',
          'skipped',
          'step_type',
          'success',
        ].sort(),
      );
      expect(step.attempts).toEqual([
        { attempt: 1, success: true, error: null, duration_ms: expect.any(Number) },
      ]);
    }
  });

  it('gives every run its own id, or the one asked for', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const steps = [{ type: 'discover', service: 'qaagent' }];
    const first = await run({ qaagent: qa.url }, steps);
    const second = await run({ qaagent: qa.url }, steps);
    expect(first.result.run_id).not.toBe(second.result.run_id);
    const chosen = await run({ qaagent: qa.url }, steps, { runId: 'run-42' });
    expect(chosen.result.run_id).toBe('run-42');
    expect(chosen.events.every((e) => e.run_id === 'run-42')).toBe(true);
  });

  it('succeeds with no steps', async () => {
    const { result, events } = await run({}, []);
    expect(result).toMatchObject({ success: true, steps: [] });
    expect(events.map((e) => e.event_type)).toEqual(['workflow.started', 'workflow.completed']);
  });

  it('never throws for a failing step: later steps run and decide by their conditions', async () => {
    const gone = await startStub();
    await gone.close();
    const qa = await stub(QA_AGENT_ROUTES);
    const { result } = await run({ down: gone.url, qaagent: qa.url }, [
      { type: 'discover', service: 'down' },
      { type: 'test', service: 'qaagent' },
      { type: 'verify', service: 'qaagent', condition: 'on_success' },
      { type: 'report', service: 'qaagent', condition: 'on_failure' },
    ]);
    expect(result.success).toBe(false);
    expect(result.steps.map((s) => [s.success, s.skipped])).toEqual([
      [false, false],
      [true, false],
      [true, true],
      [true, false],
    ]);
    expect(result.steps[0]?.error).toBe('down GET /api/routes: connection refused');
  });
});

describe('a step whose service is missing', () => {
  it('fails with the service named instead of throwing', async () => {
    const config = configFrom(
      'services:\n  qaagent: {name: QA, url: "http://127.0.0.1:9"}\nworkflows:\n  wf:\n    name: WF\n    steps:\n      - {type: test, service: qaagent}\n',
    );
    const workflow = config.workflows.wf;
    if (!workflow) throw new Error('workflow missing');
    const result = await runWorkflow({ key: 'wf', workflow, services: {}, env: {} });
    expect(result.success).toBe(false);
    expect(result.steps[0]?.error).toBe('unknown service "qaagent"');
  });
});

describe('retries', () => {
  it('makes retries + 1 attempts, waiting retry_delay × 2^(k-1) before attempt k+1', async () => {
    const times: number[] = [];
    const qa = await stub({ 'POST /api/runs': timed(times, () => ({ status: 503 })) });
    const { result } = await run({ qaagent: qa.url }, [
      { type: 'test', service: 'qaagent', retries: 3, retry_delay: 0.05 },
    ]);
    const step = result.steps[0] as StepResult;
    expect(step.success).toBe(false);
    expect(step.error).toBe('qaagent POST /api/runs: HTTP 503');
    expect(step.attempts).toEqual(
      [1, 2, 3, 4].map((attempt) => ({
        attempt,
        success: false,
        error: 'qaagent POST /api/runs: HTTP 503',
        duration_ms: expect.any(Number),
      })),
    );
    expect(qa.calls('POST /api/runs')).toHaveLength(4);
    // Waits of 50, 100 and 200 ms (timers may fire a little late, never early).
    const waits = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(waits[0]).toBeGreaterThanOrEqual(45);
    expect(waits[1]).toBeGreaterThanOrEqual(95);
    expect(waits[2]).toBeGreaterThanOrEqual(195);
    expect(waits[2]).toBeLessThan(2000);
    expect(step.duration_ms).toBeGreaterThanOrEqual(340);
  });

  it('succeeds on a later attempt and keeps the failed attempts', async () => {
    const qa = await stub({
      'GET /api/routes': (_req, n) => (n < 3 ? { status: 500 } : { body: { routes: ['/a'] } }),
    });
    const { result, events } = await run({ qaagent: qa.url }, [
      { type: 'discover', service: 'qaagent', retries: 5, retry_delay: 0.01 },
    ]);
    const step = result.steps[0] as StepResult;
    expect(step).toMatchObject({ success: true, error: null, data: { route_count: 1 } });
    expect(step.attempts.map((a) => [a.attempt, a.success, a.error])).toEqual([
      [1, false, 'qaagent GET /api/routes: HTTP 500'],
      [2, false, 'qaagent GET /api/routes: HTTP 500'],
      [3, true, null],
    ]);
    expect(qa.calls('GET /api/routes')).toHaveLength(3);
    expect(result.success).toBe(true);
    expect(events.some((e) => e.event_type === 'failure.detected')).toBe(false);
  });

  it('makes one attempt with retries: 0', async () => {
    const qa = await stub({ 'POST /api/runs': { status: 500 } });
    const { result } = await run({ qaagent: qa.url }, [{ type: 'test', service: 'qaagent' }]);
    expect(result.steps[0]?.attempts).toHaveLength(1);
    expect(qa.requests).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('cuts an attempt off after `timeout` seconds and aborts the HTTP request', async () => {
    const qa = await stub({ 'POST /api/runs': { delayMs: 10_000, body: {} } });
    const started = performance.now();
    const { result } = await run({ qaagent: qa.url }, [
      { type: 'test', service: 'qaagent', timeout: 0.2 },
    ]);
    const elapsed = performance.now() - started;
    const step = result.steps[0] as StepResult;
    expect(step.success).toBe(false);
    expect(step.error).toContain('Step timed out after 0.2s');
    // It is an error about a call, so it names the call like every other one.
    expect(step.error).toBe('qaagent POST /api/runs: Step timed out after 0.2s');
    expect(step.attempts[0]?.duration_ms).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(3000);
    // The stub sees the connection closed before it answered: the request was aborted, not left running.
    await expect.poll(() => qa.calls('POST /api/runs')[0]?.aborted, { timeout: 2000 }).toBe(true);
  });

  it('retries after a timeout', async () => {
    const qa = await stub({
      'GET /api/routes': (_req, n) =>
        n === 1 ? { delayMs: 10_000, body: {} } : { body: { routes: [] } },
    });
    const { result } = await run({ qaagent: qa.url }, [
      { type: 'discover', service: 'qaagent', timeout: 0.2, retries: 1, retry_delay: 0.01 },
    ]);
    const step = result.steps[0] as StepResult;
    expect(step.success).toBe(true);
    expect(step.attempts.map((a) => [a.success, a.error])).toEqual([
      [false, 'qaagent GET /api/routes: Step timed out after 0.2s'],
      [true, null],
    ]);
    expect(qa.calls('GET /api/routes').map((r) => r.aborted)).toEqual([true, false]);
  });

  it('fails every attempt that times out, with the last error on the step', async () => {
    const qa = await stub({ 'POST /api/v1/reports': { delayMs: 10_000 } });
    const agent = await stub(QA_AGENT_ROUTES);
    const { result } = await run({ qaagent: agent.url, bugs: qa.url }, [
      { type: 'test', service: 'qaagent' },
      { type: 'submit_bugs', service: 'bugs', timeout: 0.1, retries: 1, retry_delay: 0 },
    ]);
    expect(result.steps[1]).toMatchObject({
      success: false,
      error: 'bugs POST /api/v1/reports: Step timed out after 0.1s',
    });
    expect(result.steps[1]?.attempts).toHaveLength(2);
  });

  it('treats a timeout longer than a timer can hold as very long, not as "now"', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { result } = await run({ qaagent: qa.url }, [
      { type: 'discover', service: 'qaagent', timeout: 10_000_000 },
    ]);
    expect(result.steps[0]).toMatchObject({ success: true, error: null });
  });
});

describe('parallel batches', () => {
  it('runs consecutive parallel steps at the same time: two of ~300 ms take well under 600 ms', async () => {
    const first = await stub({ 'POST /api/runs': { delayMs: 300, body: { total: 1 } } });
    const second = await stub({ 'POST /api/runs': { delayMs: 300, body: { total: 2 } } });
    const started = performance.now();
    const { result } = await run({ first: first.url, second: second.url }, [
      { type: 'test', service: 'first', parallel: true },
      { type: 'test', service: 'second', parallel: true },
    ]);
    const elapsed = performance.now() - started;
    expect(result.success).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(560);
  });

  it('has every step of a batch in flight at once, however slow the machine', async () => {
    // Each request is held until all three arrived: run one after the other, they would all time out.
    let arrived = 0;
    let release = () => {};
    const allArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    const qa = await stub({
      'POST /api/runs': () => {
        arrived += 1;
        if (arrived === 3) release();
        return { waitFor: allArrived, body: { total: arrived } };
      },
    });
    const { result } = await run({ qaagent: qa.url }, [
      { type: 'test', service: 'qaagent', parallel: true, timeout: 2 },
      { type: 'verify', service: 'qaagent', parallel: true, timeout: 2 },
      { type: 'test', service: 'qaagent', parallel: true, timeout: 2 },
    ]);
    expect(result.steps.map((s) => s.error)).toEqual([null, null, null]);
    expect(arrived).toBe(3);
  });

  it('lists results and step.completed events in declared order, not finishing order', async () => {
    const slow = await stub({ 'POST /api/runs': { delayMs: 300, body: { total: 1 } } });
    const fast = await stub({ 'POST /api/runs': { body: { total: 2 } } });
    const finishedOrder: number[] = [];
    const { result, events } = await run(
      { slow: slow.url, fast: fast.url },
      [
        { type: 'test', service: 'slow', parallel: true },
        { type: 'test', service: 'fast', parallel: true },
      ],
      { observers: [{ stepFinished: (index) => void finishedOrder.push(index) }] },
    );
    expect(finishedOrder).toEqual([1, 0]);
    expect(result.steps.map((s) => [s.service, s.data.total])).toEqual([
      ['slow', 1],
      ['fast', 2],
    ]);
    expect(
      events.filter((e) => e.event_type === 'step.completed').map((e) => e.data.service),
    ).toEqual(['slow', 'fast']);
  });

  it('makes the first step without parallel wait for the whole batch', async () => {
    const times: number[] = [];
    const qa = await stub({
      'POST /api/runs': { delayMs: 300, body: {} },
      'GET /api/routes': timed(times, () => ({ body: { routes: [] } })),
    });
    const started = performance.now();
    await run({ qaagent: qa.url }, [
      { type: 'test', service: 'qaagent', parallel: true },
      { type: 'verify', service: 'qaagent', parallel: true },
      { type: 'discover', service: 'qaagent' },
    ]);
    expect((times[0] as number) - started).toBeGreaterThanOrEqual(290);
  });

  it('evaluates conditions inside a batch on the steps before the batch only', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const bugs = await stub(BUG_TRACKER_ROUTES);
    const { result } = await run({ qaagent: qa.url, bugs: bugs.url }, [
      { type: 'discover', service: 'qaagent' },
      { type: 'test', service: 'qaagent', parallel: true },
      { type: 'report', service: 'qaagent', parallel: true, condition: 'has_failures' },
      { type: 'submit_bugs', service: 'bugs', parallel: true },
      { type: 'submit_bugs', service: 'bugs', condition: 'has_failures' },
    ]);
    // The test step's failures are invisible inside its batch...
    expect(result.steps[2]).toMatchObject({
      skipped: true,
      data: { message: "Skipped: condition 'has_failures' not met" },
    });
    expect(result.steps[3]).toMatchObject({ skipped: false, data: { submitted: 0 } });
    // ...and visible to the step after it.
    expect(result.steps[4]).toMatchObject({ skipped: false, data: { submitted: 1 } });
    expect(bugs.calls('POST /api/v1/reports')).toHaveLength(1);
  });

  it('marks only the last batch as final for the history', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const finished: [number, boolean, string][] = [];
    const { result } = await run(
      { qaagent: qa.url },
      [
        { type: 'discover', service: 'qaagent' },
        { type: 'test', service: 'qaagent', parallel: true },
        { type: 'verify', service: 'qaagent', parallel: true },
      ],
      {
        observers: [
          {
            stepFinished: (index, _step, { final, runId }) =>
              void finished.push([index, final, runId]),
          },
        ],
      },
    );
    expect(finished.sort((a, b) => a[0] - b[0])).toEqual([
      [0, false, result.run_id],
      [1, true, result.run_id],
      [2, true, result.run_id],
    ]);
  });
});

describe('events', () => {
  it('are emitted in order with the data SPEC §3 lists', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const bugs = await stub({ 'POST /api/v1/reports': { status: 502 } });
    const { result, events } = await run({ qaagent: qa.url, bugs: bugs.url }, [
      { type: 'discover', service: 'qaagent' },
      { type: 'test', service: 'qaagent' },
      { type: 'submit_bugs', service: 'bugs' },
      { type: 'verify', service: 'qaagent', condition: 'on_success' },
      { type: 'submit_bugs', service: 'bugs' },
      { type: 'report', service: 'qaagent' },
    ]);
    expect(events.map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'step.completed',
      'step.completed',
      'failure.detected',
      'step.completed',
      'step.completed',
      'step.completed',
      'workflow.completed',
    ]);
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(
        ['data', 'event_type', 'run_id', 'timestamp', 'workflow_name'].sort(),
      );
      expect(event.workflow_name).toBe('wf');
      expect(event.run_id).toBe(result.run_id);
      expect(event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp);
    }
    expect(events[0]?.data).toEqual({ step_count: 6 });
    expect(events.filter((e) => e.event_type === 'step.completed').map((e) => e.data)).toEqual(
      result.steps.map((s) => ({
        step_type: s.step_type,
        service: s.service,
        success: s.success,
        skipped: s.skipped,
        duration_ms: s.duration_ms,
      })),
    );
    // Once, right after the first failed step, although a later step failed too.
    expect(events[4]?.data).toEqual({
      step_type: 'submit_bugs',
      service: 'bugs',
      error: 'bugs POST /api/v1/reports: HTTP 502',
    });
    expect(result.steps.filter((s) => !s.success)).toHaveLength(2);
    expect(events[8]?.data).toEqual({
      success: false,
      total_duration_ms: result.duration_ms,
      steps_passed: 3,
      steps_failed: 2,
      steps_skipped: 1,
    });
  });

  it('count a skipped step only as skipped', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { events } = await run({ qaagent: qa.url }, [
      { type: 'discover', service: 'qaagent' },
      { type: 'verify', service: 'qaagent', condition: 'on_failure' },
    ]);
    expect(events.at(-1)?.data).toMatchObject({
      success: true,
      steps_passed: 1,
      steps_failed: 0,
      steps_skipped: 1,
    });
  });

  it('put failure.detected after the first failed step in declared order, not in finishing order', async () => {
    const first = await stub({ 'GET /api/routes': { delayMs: 300, status: 500 } });
    const second = await stub({ 'GET /api/routes': { status: 500 } });
    const { events } = await run({ first: first.url, second: second.url }, [
      { type: 'discover', service: 'first', parallel: true },
      { type: 'discover', service: 'second', parallel: true },
    ]);
    expect(events.map((e) => [e.event_type, e.data.service])).toEqual([
      ['workflow.started', undefined],
      ['step.completed', 'first'],
      ['failure.detected', 'first'],
      ['step.completed', 'second'],
      ['workflow.completed', undefined],
    ]);
  });

  it('has no failure.detected when nothing failed', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { events } = await run({ qaagent: qa.url }, [{ type: 'test', service: 'qaagent' }]);
    expect(events.map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'workflow.completed',
    ]);
  });
});

describe('observers', () => {
  it('hear the start, each step and the end', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const heard: unknown[] = [];
    const { result } = await run({ qaagent: qa.url }, [{ type: 'discover', service: 'qaagent' }], {
      observers: [
        {
          runStarted: (start) => void heard.push(['started', start]),
          stepFinished: (index, step) => void heard.push(['step', index, step]),
          runFinished: (finished) => void heard.push(['finished', finished]),
        },
      ],
    });
    expect(heard).toEqual([
      [
        'started',
        {
          run_id: result.run_id,
          workflow_name: 'wf',
          started_at: result.started_at,
          step_count: 1,
        },
      ],
      ['step', 0, result.steps[0]],
      ['finished', result],
    ]);
  });

  it('that throw do not stop the run; each error is reported and the others still hear everything', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const boom = () => {
      throw new Error('observer broke');
    };
    const reported: unknown[] = [];
    const { result, events } = await run(
      { qaagent: qa.url },
      [
        { type: 'discover', service: 'qaagent' },
        { type: 'test', service: 'qaagent' },
      ],
      {
        observers: [
          { runStarted: boom, stepFinished: boom, runFinished: boom, event: async () => boom() },
        ],
        onObserverError: (error) => reported.push(error),
      },
    );
    expect(result.success).toBe(true);
    expect(result.steps).toHaveLength(2);
    expect(events.map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'step.completed',
      'workflow.completed',
    ]);
    // runStarted, 2 × stepFinished, runFinished and 4 events.
    expect(reported).toHaveLength(8);
    expect(reported.every((e) => (e as Error).message === 'observer broke')).toBe(true);
  });

  it('do not stop the run even when reporting their error throws too', async () => {
    const qa = await stub(QA_AGENT_ROUTES);
    const { result } = await run({ qaagent: qa.url }, [{ type: 'discover', service: 'qaagent' }], {
      observers: [
        {
          event: () => {
            throw new Error('observer broke');
          },
        },
      ],
      onObserverError: () => {
        throw new Error('logger broke');
      },
    });
    expect(result.success).toBe(true);
  });
});
