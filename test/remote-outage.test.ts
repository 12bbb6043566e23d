import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import { eventually } from '#test/support/host.ts';
import { startHostProcess } from '#test/support/hosts.ts';
import { QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { configFrom, tempDir } from '#test/support/temp.ts';
import { startHranaServerProcess } from '../infra/test-support/hrana-server-process.ts';

/**
 * Issue 18's bad input: the libSQL server goes away while a host runs a run.
 * The host says which server failed and why (never its token), the run ends
 * `interrupted` by the lease rules once the server is back, with the steps
 * it had recorded and nothing half-written, and the host goes on serving.
 */

const TOKEN = 'sqld-token-f00d-never-logged';

describe('a libSQL server that goes away mid-run', () => {
  it('names the server in the host log, and the run is interrupted by its lease once the server is back', async () => {
    // Prepare: a server on a fixed file and port, a host on it, a run held in its second step
    const path = join(tempDir(), 'remote.db');
    let server = await startHranaServerProcess({ path, authToken: TOKEN });
    const port = Number(new URL(server.url).port);
    onTestFinished(() => server.close());
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const qa = await stubForTest({
      ...QA_AGENT_ROUTES,
      'POST /api/runs': (_request, call) =>
        call === 1 ? { waitFor: held, body: { total: 1, passed: 1, failed: 0 } } : { body: {} },
    });
    const env = { AEGIS_DB_URL: server.url, AEGIS_DB_AUTH_TOKEN: TOKEN };
    const database = {
      backend: 'libsql server' as const,
      env,
      observe: async (): Promise<Stores> => {
        const stores = await openStores(configFrom('event_log_size: 1000\n', env), env);
        onTestFinished(() => stores.db.close());
        return stores;
      },
    };
    const host = await startHostProcess(
      `
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  held:
    name: Held in its test step
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, timeout: 60 }
      - { type: report, service: qaagent }
`,
      database,
      { AEGIS_RUN_LEASE_S: '1' },
    );
    const accepted = await fetch(`${host.url}/api/workflows/held/run?async=true`, {
      method: 'POST',
    });
    const { run_id: runId } = (await accepted.json()) as { run_id: string };
    await eventually(() => (qa.calls('POST /api/runs').length === 1 ? true : undefined));

    // Act: the server dies; the step finishes meanwhile; the server comes back on the same file
    process.kill(server.pid, 'SIGKILL');
    release();
    await eventually(
      () =>
        /libSQL server http:\/\/127\.0\.0\.1:\d+: connection refused/.test(host.process.stdout())
          ? true
          : undefined,
      10_000,
      'the host to say which server failed',
    );
    server = await startHranaServerProcess({ path, authToken: TOKEN, port });

    // Assess: the lease rules end the run, with the step recorded before the outage only
    const stores = await database.observe();
    const run = await eventually(
      async () => {
        const record = await stores.history.getRun(runId);
        return record?.status === 'interrupted' ? record : undefined;
      },
      15_000,
      'the run to be reconciled',
    );
    expect(run).toMatchObject({
      status: 'interrupted',
      reason: 'worker lost',
      success: null,
      step_count: 1,
      steps: [{ step_type: 'discover', success: true }],
    });
    const events = (await stores.events.list({ limit: 100 })).filter((e) => e.run_id === runId);
    expect(events.map((e) => e.event_type).reverse()).toEqual([
      'workflow.started',
      'step.completed',
    ]);
    expect(host.process.stdout()).not.toContain(TOKEN);
    // The host goes on: a new run completes.
    const next = await fetch(`${host.url}/api/workflows/held/run`, { method: 'POST' });
    expect(await next.json()).toMatchObject({ status: 'completed' });
  });
});
