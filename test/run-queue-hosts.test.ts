import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '#shared/history/history-store.ts';
import { runAegis } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';
import {
  BACKENDS,
  type HostProcess,
  type SharedDatabase,
  sharedDatabase,
  startHostProcess,
} from '#test/support/hosts.ts';
import { QA_AGENT_ROUTES, type StubService, stubForTest } from '#test/support/stub-service.ts';
import { writeConfig } from '#test/support/temp.ts';

/**
 * SPEC §11 and §16 with real processes: several `aegis serve` on one
 * database (a file, then a libSQL server), `aegis run` racing them,
 * `kill -9` of the host that runs a run. Exactly-once is shown by counting
 * what the stub QA agent was asked.
 */

function yaml(qa: StubService, slow: StubService, hookUrl = 'http://127.0.0.1:9/unused'): string {
  return `
event_log_size: 10000
webhooks:
  - { url: "${hookUrl}", events: ["workflow.completed"] }
triggers:
  push: { workflow: pipeline, source: github, secret: ${GITHUB_SECRET} }
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  slowqa: { name: Slow QA Agent, url: "${slow.url}" }
workflows:
  pipeline:
    name: Pipeline
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
  hangs:
    name: Hangs in its test step the first time
    on_interrupt: requeue
    steps:
      - { type: discover, service: slowqa }
      - { type: test, service: slowqa, timeout: 120 }
  stops:
    name: Hangs in its test step, and is not requeued
    concurrency: { limit: 1 }
    steps:
      - { type: discover, service: slowqa }
      - { type: test, service: slowqa, timeout: 120 }
`;
}

const GITHUB_SECRET = 'github-secret-shared-by-both-hosts';

/** A QA agent whose test run never answers the first time (the step is in flight), then at once. */
async function slowAgent(): Promise<StubService> {
  return stubForTest({
    ...QA_AGENT_ROUTES,
    'POST /api/runs': (_request, call) =>
      call === 1 ? { delayMs: 100_000 } : { body: { total: 1, passed: 1, failed: 0 } },
  });
}

async function startAsync(host: HostProcess, workflow: string): Promise<string> {
  const answer = await fetch(`${host.url}/api/workflows/${workflow}/run`, {
    method: 'POST',
    headers: { prefer: 'respond-async' },
  });
  expect(answer.status).toBe(202);
  return ((await answer.json()) as { run_id: string }).run_id;
}

async function runsOf(db: SharedDatabase, workflow: string): Promise<HistoryRecord[]> {
  return (await db.observe()).history.listRuns({ workflow, limit: 1000 });
}

describe.each(BACKENDS)('the run queue across processes, on a %s', (backend) => {
  it('executes every queued run exactly once, with two hosts and `aegis run` processes racing', async () => {
    // Prepare
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const slow = await slowAgent();
    const receiver = await stubForTest({ 'POST /hook': { status: 204, raw: '' } });
    const db = await sharedDatabase(backend);
    const config = yaml(qa, slow, `${receiver.url}/hook`);
    const [a, b] = await Promise.all([
      startHostProcess(config, db, { AEGIS_RUN_WORKERS: '2' }),
      startHostProcess(config, db, { AEGIS_RUN_WORKERS: '2' }),
    ]);
    // Act: 30 runs queued through both hosts, while 3 CLI processes run their own
    const configFile = writeConfig(config);
    const cli = Array.from({ length: 3 }, () =>
      runAegis(['run', 'pipeline', '--json', '--config', configFile], {
        env: db.env,
        timeoutMs: 60_000,
      }),
    );
    const queued: string[] = [];
    for (let i = 0; i < 30; i++) queued.push(await startAsync(i % 2 ? a : b, 'pipeline'));
    const cliResults = await Promise.all(cli);
    // Assess
    for (const result of cliResults) expect(result, result.stderr).toMatchObject({ code: 0 });
    const runs = await eventually(
      async () => {
        const all = await runsOf(db, 'pipeline');
        return all.length === 33 && all.every((r) => r.status === 'completed') ? all : undefined;
      },
      30_000,
      'every run to complete',
    );
    expect(runs.map((r) => r.trigger).sort()).toEqual([
      ...Array(30).fill('api'),
      ...Array(3).fill('cli'),
    ]);
    expect(qa.calls('GET /api/routes')).toHaveLength(33);
    expect(qa.calls('POST /api/runs')).toHaveLength(33);
    // Each run's workflow.completed reaches the receiver once, whichever host's worker sent it.
    const hooks = await eventually(
      () => (receiver.calls('POST /hook').length >= 33 ? receiver.calls('POST /hook') : undefined),
      20_000,
      'the deliveries',
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // a second sender would be here by now
    const ids = receiver.calls('POST /hook').map((h) => h.headers['webhook-id']);
    expect(ids).toHaveLength(33);
    expect(new Set(ids).size).toBe(33);
    expect(new Set(hooks.map((h) => (h.json as { run_id: string }).run_id)).size).toBe(33);
    expect(new Set(runs.map((r) => r.run_id))).toEqual(
      new Set([
        ...queued,
        ...cliResults.map((r) => (JSON.parse(r.stdout) as { run_id: string }).run_id),
      ]),
    );
  });

  it('starts one run for a GitHub delivery that both hosts receive at once', async () => {
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const slow = await slowAgent();
    const db = await sharedDatabase(backend);
    const config = yaml(qa, slow);
    const hosts = await Promise.all([startHostProcess(config, db), startHostProcess(config, db)]);
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'abc123' });
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': 'delivery-7f3e',
      'x-hub-signature-256': await sign(GITHUB_SECRET, body),
    };

    const answers = await Promise.all(
      [...hosts, ...hosts].map(async (host) => {
        const response = await fetch(`${host.url}/api/triggers/push`, {
          method: 'POST',
          headers,
          body,
        });
        const { run_id } = (await response.json()) as { run_id: string };
        return { http: response.status, run_id };
      }),
    );

    expect(answers.map((a) => a.http).sort()).toEqual([200, 200, 200, 202]);
    expect(new Set(answers.map((a) => a.run_id)).size).toBe(1);
    const runs = await runsOf(db, 'pipeline');
    expect(runs.map((r) => r.trigger)).toEqual(['trigger:push']);
  });

  it('marks a killed host’s run interrupted within two leases, from another host, and requeues it from the step it was in', async () => {
    // Prepare: host A runs a run that hangs in its second step
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const slow = await slowAgent();
    const db = await sharedDatabase(backend);
    const config = yaml(qa, slow);
    const lease = { AEGIS_RUN_LEASE_S: '1' };
    const a = await startHostProcess(config, db, lease);
    const runId = await startAsync(a, 'hangs');
    await eventually(
      () => (slow.calls('POST /api/runs').length === 1 ? true : undefined),
      10_000,
      'host A to be in the test step',
    );
    const b = await startHostProcess(config, db, lease);
    // Act
    await a.kill();
    const killedAt = Date.now();
    const interrupted = await eventually(
      async () => {
        const run = await (await db.observe()).history.getRun(runId);
        return run?.status === 'interrupted' ? run : undefined;
      },
      10_000,
      'another host to reconcile the run',
    );
    const within = Date.now() - killedAt;
    // Assess
    expect(within).toBeLessThan(2 * 1_000 + 500); // two leases of 1 s (and the poll's slack)
    expect(interrupted).toMatchObject({
      status: 'interrupted',
      reason: 'worker lost',
      step_count: 1,
      steps: [{ step_type: 'discover', success: true }],
    });
    const rerun = await eventually(
      async () => {
        const [newest] = await runsOf(db, 'hangs');
        return newest && newest.run_id !== runId && newest.status === 'completed'
          ? newest
          : undefined;
      },
      15_000,
      'host B to execute the requeued rerun',
    );
    expect(rerun).toMatchObject({
      trigger: 'rerun',
      parent_run_id: runId,
      success: true,
      steps: [
        { step_type: 'discover', reused: true },
        { step_type: 'test', reused: false },
      ],
    });
    expect(slow.calls('GET /api/routes')).toHaveLength(1); // the reused step was not called again
    expect(await b.stop()).toBe(0);
  });

  it('cancels a run executing in another process within a second: its request is aborted', async () => {
    // Prepare
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const slow = await slowAgent();
    const db = await sharedDatabase(backend);
    const config = yaml(qa, slow);
    const a = await startHostProcess(config, db, { AEGIS_RUN_WORKERS: '1' });
    const b = await startHostProcess(config, db, { AEGIS_RUN_WORKERS: '0' });
    const runId = await startAsync(a, 'stops');
    await eventually(
      () => (slow.calls('POST /api/runs').length === 1 ? true : undefined),
      10_000,
      'host A to be in the test step',
    );
    // Act: cancel through the host that does not run it
    const asked = Date.now();
    const answer = await fetch(`${b.url}/api/runs/${runId}/cancel`, { method: 'POST' });
    // Assess
    expect(answer.status).toBe(202);
    await eventually(
      () => (slow.calls('POST /api/runs')[0]?.aborted ? true : undefined),
      5_000,
      'the request in flight to be aborted',
    );
    expect(Date.now() - asked).toBeLessThan(1_000);
    const ended = (await (
      await fetch(`${b.url}/api/runs/${runId}?wait=5`)
    ).json()) as HistoryRecord;
    expect(ended).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled through the API',
      step_count: 1,
    });
    const events = await (await db.observe()).events.list({ limit: 100 });
    expect(events.filter((e) => e.run_id === runId).map((e) => e.event_type)).toEqual([
      'workflow.cancelled',
      'step.completed',
      'workflow.started',
    ]);
  });

  it('answers a synchronous run on an API-only host (AEGIS_RUN_WORKERS=0) with the result another host executed', async () => {
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const slow = await slowAgent();
    const db = await sharedDatabase(backend);
    const config = yaml(qa, slow);
    const apiOnly = await startHostProcess(config, db, { AEGIS_RUN_WORKERS: '0' });
    await startHostProcess(config, db, { AEGIS_RUN_WORKERS: '1' });

    const answer = await fetch(`${apiOnly.url}/api/workflows/pipeline/run`, { method: 'POST' });

    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      workflow_name: 'pipeline',
      status: 'completed',
      success: true,
      steps: [{ step_type: 'discover' }, { step_type: 'test', data: { failed: 1 } }],
    });
  });

  it('on SIGTERM stops claiming, gives running runs the grace, then cancels them; queued runs stay queued; exit 0', async () => {
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const slow = await slowAgent();
    const db = await sharedDatabase(backend);
    const host = await startHostProcess(yaml(qa, slow), db, { AEGIS_SHUTDOWN_GRACE: '0.5' });
    const going = await startAsync(host, 'stops');
    await eventually(
      () => (slow.calls('POST /api/runs').length === 1 ? true : undefined),
      10_000,
      'the run to be in its test step',
    );
    const waiting = await startAsync(host, 'stops'); // concurrency limit 1: it waits queued

    const stoppedAt = Date.now();
    expect(await host.stop()).toBe(0);

    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    const history = (await db.observe()).history;
    expect(await history.getRun(going)).toMatchObject({
      status: 'cancelled',
      reason: 'host shutting down',
      step_count: 1,
    });
    expect(await history.getRun(waiting)).toMatchObject({ status: 'queued' });
    expect(slow.calls('POST /api/runs')[0]?.aborted).toBe(true);
  });
});
