import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import { REMOTE_BACKEND, type RemoteDatabase, remoteDatabase } from '#test/support/remote-db.ts';
import { claimRun, finishRun, OWNER, queueRun, step } from '#test/support/runs.ts';
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
    const workflow = `remote-${randomUUID()}`;
    // Act: as an executor records a run: queued, claimed, a step, then ended with the rest
    const runId = await queueRun(writer, workflow);
    await claimRun(writer, runId);
    await writer.history.recordStep(runId, 0, step('discover', { duration_ms: 12.5 }), OWNER);
    const during = await reader.history.getRun(runId);
    await finishRun(writer, runId, [{ index: 1, step: step('report', { duration_ms: 7 }) }], {
      workflow,
    });
    await writer.events.append({
      event_type: 'workflow.completed',
      timestamp: new Date().toISOString(),
      workflow_name: workflow,
      run_id: runId,
      data: { success: true },
    });
    // Assess
    expect(during).toMatchObject({ status: 'running', success: null, step_count: 1 });
    const read = await reader.history.getRun(runId);
    expect(read).toMatchObject({
      run_id: runId,
      workflow_name: workflow,
      status: 'completed',
      success: true,
      duration_ms: 250.5,
      step_count: 2,
    });
    expect(read?.steps.map((s) => [s.step_type, s.duration_ms])).toEqual([
      ['discover', 12.5],
      ['report', 7],
    ]);
    const listed = await reader.history.listRuns({ workflow, limit: 100 });
    expect(listed.map((r) => r.run_id)).toEqual([runId]);
    const events = await reader.events.list({ limit: 50, eventType: 'workflow.completed' });
    expect(events.filter((e) => e.run_id === runId)).toMatchObject([
      { workflow_name: workflow, data: { success: true } },
    ]);
  });
});
