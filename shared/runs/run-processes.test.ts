import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '#shared/db/migrations.ts';
import type { Stores } from '#shared/stores.ts';
import { AEGIS_BIN, runAegis } from '#test/support/cli-process.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  type StubService,
  startStub,
} from '#test/support/stub-service.ts';
import { configFrom, tempDir, tempStores, writeConfig } from '#test/support/temp.ts';

/**
 * The history is shared by processes (SPEC §4): several `aegis run` at once
 * on one new file, and a process killed mid-run, whose run any process
 * marks interrupted once its lease expired, with the steps that finished.
 */

let qa: StubService;
let slowQa: StubService;
let bugs: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
  // Its test run never answers in time: a run using it is still going when the process is killed.
  slowQa = await startStub({ ...QA_AGENT_ROUTES, 'POST /api/runs': { delayMs: 60_000 } });
  bugs = await startStub(BUG_TRACKER_ROUTES);
});
afterAll(async () => {
  await Promise.all([qa.close(), slowQa.close(), bugs.close()]);
});

function projectConfig(dir: string): string {
  return writeConfig(
    `
history_db_path: ${join(dir, 'data', 'history.db')}
event_log_size: 1000
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  slowqa: { name: Slow QA Agent, url: "${slowQa.url}" }
  bugalizer: { name: Bug tracker, url: "${bugs.url}" }
workflows:
  full_pipeline:
    name: Full QA Pipeline
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
      - { type: report, service: qaagent }
  hangs:
    name: Hangs on its second step
    steps:
      - { type: discover, service: slowqa }
      - { type: test, service: slowqa, timeout: 120 }
      - { type: report, service: slowqa }
`,
    dir,
  );
}

/** The stores over the project's history file, opened here as another process would. */
function storesAt(dir: string): Promise<Stores> {
  return tempStores(configFrom(`history_db_path: ${join(dir, 'data', 'history.db')}\n`));
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('the history across processes', () => {
  it('takes several `aegis run` at once on a new file: one schema, every run whole', async () => {
    const dir = tempDir();
    const config = projectConfig(dir);

    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        runAegis(['run', 'full_pipeline', '--config', config, '--json']),
      ),
    );

    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    const runIds = results.map(
      (result) => (JSON.parse(result.stdout) as { run_id: string }).run_id,
    );
    const stores = await storesAt(dir);
    const runs = await stores.history.listRuns({ limit: 100 });
    expect(runs.map((run) => run.run_id).sort()).toEqual(runIds.slice().sort());
    expect(runs.every((run) => run.status === 'completed' && run.step_count === 4)).toBe(true);
    const applied = await stores.db.execute('SELECT version FROM aegis_schema ORDER BY version');
    expect(applied.rows.map((row) => row.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
    expect(await stores.events.list({ limit: 1000 })).toHaveLength(4 * 6);
  });

  it('keeps the finished steps of a run whose process died, and marks it interrupted once its lease expired', async () => {
    const dir = tempDir();
    const config = projectConfig(dir);
    let child: ChildProcess | undefined = spawn(
      process.execPath,
      [AEGIS_BIN, 'run', 'hangs', '--config', config],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, AEGIS_RUN_LEASE_S: '1' },
        stdio: 'ignore',
      },
    );
    try {
      const observer = await storesAt(dir);
      // The process is inside the hanging step once its request reached the stub and step 0 is recorded.
      const running = await until('the first step to be recorded', async () => {
        if (slowQa.calls('POST /api/runs').length === 0) return undefined;
        const [run] = await observer.history.listRuns({ limit: 1 });
        return run?.step_count === 1 ? run : undefined;
      });
      expect(running).toMatchObject({ workflow_name: 'hangs', status: 'running', success: null });

      child.kill('SIGKILL');
      await once(child, 'exit');
      child = undefined;
      observer.db.close();

      // Any process reconciling the queue marks what the dead one left, once its lease (1 s) is over.
      const host = await storesAt(dir);
      {
        expect(await host.history.getRun(running.run_id)).toMatchObject({
          status: 'running',
          step_count: 1,
        });
        const interrupted = await until('the lease to expire', async () => {
          const outcome = await host.queue.reconcile();
          return outcome.interrupted.length > 0 ? outcome.interrupted : undefined;
        });
        expect(interrupted).toEqual([{ runId: running.run_id, workflow: 'hangs' }]);
        expect(await host.history.getRun(running.run_id)).toMatchObject({
          status: 'interrupted',
          reason: 'worker lost',
          success: null,
          step_count: 1,
          steps: [{ step_type: 'discover', success: true, data: { route_count: 2 } }],
        });
        const events = (await host.events.list({ limit: 10 })).map((e) => e.event_type).reverse();
        expect(events).toEqual(['workflow.started', 'step.completed']);
      }
    } finally {
      child?.kill('SIGKILL');
    }
  });
});
