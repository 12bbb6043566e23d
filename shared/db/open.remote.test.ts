import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import type { RunResult } from '#shared/workflow/types.ts';
import { REMOTE_BACKEND, type RemoteDatabase, remoteDatabase } from '#test/support/remote-db.ts';
import { configFrom } from '#test/support/temp.ts';
import { SCHEMA_VERSION } from './migrations.ts';

let remote: RemoteDatabase;

beforeAll(async () => {
  remote = await remoteDatabase();
});

afterAll(async () => {
  await remote?.close();
});

/** The stores as a host opens them with AEGIS_DB_URL set: a client of its own, closed when the test ends. */
async function open(): Promise<Stores> {
  const stores = await openStores(configFrom('aegis: { name: Remote }'), remote.env);
  onTestFinished(() => stores.db.close());
  return stores;
}

function runResult(runId: string): RunResult {
  const step = (service: string, duration_ms: number) => ({
    step_type: 'discover' as const,
    service,
    success: true,
    skipped: false,
    data: { route_count: 2, service },
    error: null,
    duration_ms,
    attempts: [{ attempt: 1, success: true, error: null, duration_ms }],
  });
  return {
    run_id: runId,
    workflow_name: 'remote-smoke',
    success: true,
    started_at: '2026-01-01T00:00:00.000Z',
    completed_at: '2026-01-01T00:00:01.500Z',
    duration_ms: 1500,
    steps: [step('qaagent', 12.5), step('bugalizer', 7)],
  };
}

describe(`the stores over AEGIS_DB_URL, against ${REMOTE_BACKEND}`, () => {
  it('migrates on open, once, however many clients open it at the same time', async () => {
    // Act
    const [a, b, c] = await Promise.all([open(), open(), open()]);
    // Assess
    for (const stores of [a, b, c]) {
      const version = await stores.db.execute('SELECT max(version) AS v FROM aegis_schema');
      expect(Number(version.rows[0]?.v)).toBe(SCHEMA_VERSION);
    }
    const applied = await a.db.execute('SELECT version FROM aegis_schema ORDER BY version');
    expect(applied.rows.map((row) => Number(row.version))).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('records a run from one client that a second client reads back, steps and events included', async () => {
    // Prepare
    const writer = await open();
    const reader = await open();
    const run = runResult(`remote-${randomUUID()}`);
    // Act: as the recorder writes a run: started, a step, then completed with the rest
    await writer.history.startRun({ ...run, step_count: run.steps.length });
    await writer.history.recordStep(run.run_id, 0, run.steps[0] as RunResult['steps'][0]);
    const during = await reader.history.getRun(run.run_id);
    await writer.history.completeRun(run, [
      { index: 1, step: run.steps[1] as RunResult['steps'][0] },
    ]);
    await writer.events.append({
      event_type: 'workflow.completed',
      timestamp: run.completed_at,
      workflow_name: run.workflow_name,
      run_id: run.run_id,
      data: { success: true },
    });
    // Assess
    expect(during).toMatchObject({ status: 'running', success: null, step_count: 1 });
    const read = await reader.history.getRun(run.run_id);
    expect(read).toMatchObject({
      run_id: run.run_id,
      workflow_name: 'remote-smoke',
      status: 'completed',
      success: true,
      duration_ms: 1500,
      step_count: 2,
    });
    expect(read?.steps.map((s) => [s.service, s.duration_ms, s.data])).toEqual([
      ['qaagent', 12.5, { route_count: 2, service: 'qaagent' }],
      ['bugalizer', 7, { route_count: 2, service: 'bugalizer' }],
    ]);
    const listed = await reader.history.listRuns({ workflow: 'remote-smoke', limit: 100 });
    expect(listed.filter((r) => r.run_id === run.run_id)).toHaveLength(1);
    const events = await reader.events.list({ limit: 50, eventType: 'workflow.completed' });
    expect(events.filter((e) => e.run_id === run.run_id)).toMatchObject([
      { workflow_name: 'remote-smoke', data: { success: true } },
    ]);
  });
});
