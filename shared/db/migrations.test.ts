import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '#shared/history/history-store.ts';
import { RunQueue } from '#shared/runs/run-queue.ts';
import { tempDir } from '#test/support/temp.ts';
import { migrate, openDatabase } from './open.ts';
import { fileUrl, resolveDatabaseTarget } from './target.ts';

describe('migration 3: the run queue', () => {
  it('keeps every run of a version 2 history, and a run a dead process left running becomes reconcilable', async () => {
    // Prepare: a history as version 2 wrote it, with a finished run and one left running.
    const path = join(tempDir(), 'h.db');
    const v2 = createClient({ url: fileUrl(path) });
    expect(await migrate(v2, 2)).toBe(2);
    await v2.batch(
      [
        `INSERT INTO runs (run_id, workflow_name, status, success, started_at, completed_at, duration_ms)
         VALUES ('old-done', 'smoke', 'completed', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 1000)`,
        `INSERT INTO runs (run_id, workflow_name, status, success, started_at)
         VALUES ('old-left', 'smoke', 'running', NULL, '2026-01-01T00:01:00.000Z')`,
        `INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, duration_ms, error,
           attempts, attempt_details, data) VALUES ('old-left', 0, 'discover', 'qaagent', 1, 0, 5, NULL, 1, '[]', '{}')`,
      ],
      'write',
    );
    v2.close();

    // Act
    const db = await openDatabase(resolveDatabaseTarget(path, {}));
    try {
      const history = new HistoryStore(db, { maxRecordsPerWorkflow: 0 });
      // Assess: the records keep their order and times, with the new fields filled in.
      expect(await history.listRuns({})).toMatchObject([
        {
          run_id: 'old-left',
          status: 'running',
          queued_at: '2026-01-01T00:01:00.000Z',
          trigger: 'api',
          step_count: 1,
          steps: [{ step_type: 'discover', reused: false }],
        },
        {
          run_id: 'old-done',
          status: 'completed',
          success: true,
          queued_at: '2026-01-01T00:00:00.000Z',
          started_at: '2026-01-01T00:00:00.000Z',
          duration_ms: 1000,
        },
      ]);
      // The left-over run has no lease: the first reconciliation marks it interrupted, steps kept.
      const reconciled = await new RunQueue(db).reconcile();
      expect(reconciled.interrupted).toEqual([{ runId: 'old-left', workflow: 'smoke' }]);
      expect(await history.getRun('old-left')).toMatchObject({
        status: 'interrupted',
        reason: 'worker lost',
        step_count: 1,
      });
      // New runs follow the old ones.
      const next = await new RunQueue(db).enqueue({
        workflow: 'smoke',
        settings: { on_interrupt: 'none' },
        trigger: 'cli',
      });
      expect(next.kind).toBe('queued');
      expect((await history.listRuns({}))[0]?.trigger).toBe('cli');
    } finally {
      db.close();
    }
  });
});
