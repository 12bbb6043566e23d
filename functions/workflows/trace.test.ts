import { describe, expect, it } from 'vitest';
import { eventually, startTestHost } from '#test/support/host.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  type RecordedRequest,
  stubForTest,
} from '#test/support/stub-service.ts';

/**
 * SPEC §13: every outbound request carries a W3C `traceparent`; a run
 * started by a request that sent one continues that trace, which the
 * history record and the run's log lines carry too.
 */

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const W3C = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

function traceOf(request: RecordedRequest): { traceId: string; spanId: string } {
  const header = request.headers.traceparent;
  const match = typeof header === 'string' ? W3C.exec(header) : null;
  if (!match) throw new Error(`not a W3C traceparent: ${String(header)}`);
  return { traceId: match[1] as string, spanId: match[2] as string };
}

async function setup() {
  const qa = await stubForTest({
    ...QA_AGENT_ROUTES,
    // The test step fails once, so its retry shows a span per attempt.
    'POST /api/runs': (_request, call) =>
      call === 1
        ? { status: 503 }
        : { body: { total: 1, passed: 0, failed: 1, failures: [{ test: 't', error: 'e' }] } },
  });
  const bugs = await stubForTest(BUG_TRACKER_ROUTES);
  const receiver = await stubForTest({ 'POST /hook': { body: {} } });
  const host = await startTestHost(`
webhooks:
  - { url: "${receiver.url}/hook", events: ["*"] }
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  bugalizer: { name: Bug Tracker, url: "${bugs.url}" }
workflows:
  pipeline:
    name: Pipeline
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, retries: 1, retry_delay: 0.01 }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
`);
  return { qa, bugs, receiver, ...host };
}

describe('W3C trace context', () => {
  it("continues the caller's trace on every service call, webhook and the record", async () => {
    // Prepare
    const { qa, bugs, receiver, url } = await setup();
    // Act
    const answer = await fetch(`${url}/api/workflows/pipeline/run`, {
      method: 'POST',
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    const result = (await answer.json()) as { run_id: string; success: boolean };
    // Assess
    expect(answer.status).toBe(200);
    const calls = [
      ...qa.calls('GET /api/routes'),
      ...qa.calls('POST /api/runs'),
      ...bugs.calls('POST /api/v1/reports'),
    ];
    expect(calls).toHaveLength(4); // discover, two test attempts, submit_bugs
    const traces = calls.map(traceOf);
    for (const trace of traces) expect(trace.traceId).toBe(CALLER_TRACE);
    // A span of its own per attempt, none of them the caller's.
    expect(new Set(traces.map((t) => t.spanId)).size).toBe(4);
    expect(traces.map((t) => t.spanId)).not.toContain(CALLER_SPAN);

    const hooks = await eventually(
      () => (receiver.calls('POST /hook').length >= 4 ? receiver.calls('POST /hook') : undefined),
      5_000,
      'the webhook deliveries',
    );
    for (const hook of hooks) expect(traceOf(hook).traceId).toBe(CALLER_TRACE);

    const record = (await (await fetch(`${url}/api/runs/${result.run_id}`)).json()) as {
      trace_id: string;
    };
    expect(record.trace_id).toBe(CALLER_TRACE);
  });

  it("puts the run's trace id on the run's log lines", async () => {
    // Prepare: a run that hangs on its call, then is cancelled, which its executor logs.
    const { qa, url, logs } = await setup();
    qa.route('GET /api/routes', { delayMs: 10_000 });
    const started = await fetch(`${url}/api/workflows/pipeline/run?async=true`, {
      method: 'POST',
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    const { run_id } = (await started.json()) as { run_id: string };
    await eventually(() => (qa.calls('GET /api/routes').length > 0 ? true : undefined));
    // Act
    await fetch(`${url}/api/runs/${run_id}/cancel`, { method: 'POST' });
    // Assess
    const line = await eventually(
      () => logs().find((l) => l.run_id === run_id && l.message === 'run cancelled'),
      5_000,
      "the run's log line",
    );
    expect(line.trace_id).toBe(CALLER_TRACE);
  });

  it('starts a new trace when the incoming traceparent is malformed, and never refuses the run', async () => {
    // Prepare
    const { qa, url } = await setup();
    // Act
    const answer = await fetch(`${url}/api/workflows/pipeline/run?async=true`, {
      method: 'POST',
      headers: { traceparent: `00-${CALLER_TRACE.toUpperCase()}-${CALLER_SPAN}-01` },
    });
    const { run_id } = (await answer.json()) as { run_id: string };
    const record = (await (await fetch(`${url}/api/runs/${run_id}?wait=5`)).json()) as {
      trace_id: string;
      status: string;
    };
    // Assess
    expect(answer.status).toBe(202);
    expect(record.status).toBe('completed');
    expect(record.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(record.trace_id).not.toBe(CALLER_TRACE);
    for (const call of qa.requests) expect(traceOf(call).traceId).toBe(record.trace_id);
  });

  it("checks health in the asking request's trace, or in a new one", async () => {
    // Prepare
    const { qa, bugs, url } = await setup();
    // Act
    await fetch(`${url}/api/services`, {
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    await fetch(`${url}/api/services/qaagent/health`);
    // Assess
    const [listed, single] = qa.calls('GET /health');
    const [bugsListed] = bugs.calls('GET /health');
    expect(traceOf(listed as RecordedRequest).traceId).toBe(CALLER_TRACE);
    expect(traceOf(bugsListed as RecordedRequest).traceId).toBe(CALLER_TRACE);
    const fresh = traceOf(single as RecordedRequest).traceId;
    expect(fresh).not.toBe(CALLER_TRACE);
    expect(fresh).not.toMatch(/^0+$/);
  });
});
