import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '#shared/db/open.ts';
import { fileUrl, resolveDatabaseTarget } from '#shared/db/target.ts';
import { stepStatement } from '#shared/history/history-store.ts';
import { type Stores, storesOver } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { claimRun, OWNER, queueRun, step } from '#test/support/runs.ts';
import { configFrom, tempDir, tempStores } from '#test/support/temp.ts';
import { insightStatements } from './record.ts';

/*
 * The trends (SPEC §14) over a history whose days, outcomes and durations
 * are known, written through the run queue's own API as runs are.
 */

const DAY = 24 * 60 * 60 * 1000;
/** "Now" for these tests: 2026-05-20, 15:00 UTC. */
const NOW = Date.UTC(2026, 4, 20, 15);
const daysAgo = (days: number, hour = 10) => Date.UTC(2026, 4, 20 - days, hour);

async function stores(extra = ''): Promise<Stores> {
  return tempStores(configFrom(extra));
}

const testStep = (total: number, failed: number): StepResult =>
  step('test', { data: { total, passed: total - failed, failed, failures: [] } });

/** A run queued at `at` that ends as `end` after `durationMs`, with its steps written as the executor does. */
async function runAt(
  s: Stores,
  at: number,
  end: 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'cancelled while queued',
  { durationMs = 100, steps = [] as StepResult[], workflow = 'nightly' } = {},
): Promise<string> {
  const runId = await queueRun(s, workflow, { now: at });
  if (end === 'cancelled while queued') {
    await s.queue.requestCancel(runId, 'not wanted', at + 1);
    return runId;
  }
  await claimRun(s, runId, { now: at });
  if (end === 'interrupted') {
    await s.queue.interrupt(runId, 'worker lost', { now: at + durationMs });
    return runId;
  }
  await s.queue.finish({
    runId,
    owner: OWNER,
    status: end === 'cancelled' ? 'cancelled' : 'completed',
    success: end === 'cancelled' ? null : end === 'succeeded',
    completedAt: new Date(at + durationMs).toISOString(),
    durationMs,
    reason: end === 'cancelled' ? 'cancelled' : null,
    before: steps.flatMap((result, index) => [
      stepStatement(runId, index, result, OWNER),
      ...insightStatements(runId, index, result, OWNER, at + durationMs),
    ]),
    after: s.history.retention(workflow),
    now: at + durationMs,
  });
  return runId;
}

describe('InsightStore.stats', () => {
  it('counts the ended runs of each UTC day by outcome, with percentiles of the completed ones', async () => {
    const s = await stores();
    // Today: two successes and a failure (100, 200, 400 ms), one cancelled running, one cancelled queued.
    await runAt(s, daysAgo(0), 'succeeded', { durationMs: 100, steps: [testStep(10, 2)] });
    await runAt(s, daysAgo(0, 11), 'succeeded', { durationMs: 200 });
    await runAt(s, daysAgo(0, 12), 'failed', { durationMs: 400, steps: [testStep(10, 2)] });
    await runAt(s, daysAgo(0, 13), 'cancelled', { durationMs: 50 });
    await runAt(s, daysAgo(0, 14), 'cancelled while queued');
    // Yesterday: a success of 1 s and an interrupted run; four days ago: one more, outside 3 days.
    await runAt(s, daysAgo(1), 'succeeded', { durationMs: 1000 });
    await runAt(s, daysAgo(1, 23), 'interrupted');
    await runAt(s, daysAgo(4), 'failed', { durationMs: 9000 });
    // Another workflow's run and a run still going count for nothing here.
    await runAt(s, daysAgo(0), 'failed', { workflow: 'smoke', durationMs: 5 });
    await claimRun(s, await queueRun(s, 'nightly', { now: daysAgo(0) }), { now: daysAgo(0) });

    const stats = await s.insight.stats('nightly', { days: 3, now: NOW });

    expect(stats).toEqual({
      days: 3,
      since: '2026-05-18',
      runs: 7,
      succeeded: 3,
      failed: 1,
      cancelled: 2,
      interrupted: 1,
      success_rate: 0.75,
      // Nearest rank over 100, 200, 400, 1000: the 2nd (p50) and the 4th (p95).
      duration_ms: { p50: 200, p95: 1000 },
      tests: { total: 20, failed: 4, failed_rate: 0.2 },
      by_day: [
        { date: '2026-05-18', runs: 0, succeeded: 0, failed: 0, p50_ms: null },
        { date: '2026-05-19', runs: 2, succeeded: 1, failed: 0, p50_ms: 1000 },
        { date: '2026-05-20', runs: 5, succeeded: 2, failed: 1, p50_ms: 200 },
      ],
    });
    const week = await s.insight.stats('nightly', { days: 7, now: NOW });
    expect(week).toMatchObject({ runs: 8, failed: 2, duration_ms: { p50: 400, p95: 9000 } });
    expect(week.by_day).toHaveLength(7);
  });

  it('answers nulls, not zeros, for rates and durations it has nothing to compute from', async () => {
    const s = await stores();
    await runAt(s, daysAgo(0), 'cancelled while queued');

    const stats = await s.insight.stats('nightly', { days: 1, now: NOW });

    expect(stats).toMatchObject({
      runs: 1,
      cancelled: 1,
      success_rate: null,
      duration_ms: { p50: null, p95: null },
      tests: { total: 0, failed: 0, failed_rate: null },
      by_day: [{ date: '2026-05-20', runs: 1, succeeded: 0, failed: 0, p50_ms: null }],
    });
  });

  it('interpolates inside a bucket shared by several runs, staying within it', async () => {
    const s = await stores();
    // 100, 101 and 104 ms share the bucket "1.0e2"; 250 ms has its own.
    for (const durationMs of [100, 101, 104, 250])
      await runAt(s, daysAgo(0), 'succeeded', { durationMs });

    const { duration_ms } = await s.insight.stats('nightly', { days: 1, now: NOW });

    // p50 is the 2nd of 4 (exactly 101): the middle of the bucket, 100 + 4 × 1/2.
    expect(duration_ms.p50).toBe(102);
    expect(duration_ms.p95).toBe(250);
  });

  it('describes the history that retention keeps', async () => {
    const s = await stores('history_max_records: 2');
    await runAt(s, daysAgo(0, 1), 'failed', { durationMs: 700, steps: [testStep(4, 4)] });
    await runAt(s, daysAgo(0, 2), 'succeeded', { durationMs: 100, steps: [testStep(4, 0)] });
    await runAt(s, daysAgo(0, 3), 'succeeded', { durationMs: 300, steps: [testStep(4, 1)] });

    const stats = await s.insight.stats('nightly', { days: 1, now: NOW });

    expect(stats).toMatchObject({
      runs: 2,
      succeeded: 2,
      failed: 0,
      duration_ms: { p50: 100, p95: 300 },
      tests: { total: 8, failed: 1 },
    });
  });
});

describe('migration 5: test insight over an existing history', () => {
  it('counts the runs and test steps a version 4 history already holds', async () => {
    // Prepare: a history as version 4 wrote it, with a run whose test step listed 1 failure of 3
    // (and no `failed` count: the list says it).
    const path = join(tempDir(), 'h.db');
    const v4 = createClient({ url: fileUrl(path) });
    expect(await migrate(v4, 4)).toBe(4);
    const today = new Date().toISOString();
    await v4.batch(
      [
        {
          sql: `INSERT INTO runs (run_id, workflow_name, status, success, queued_at, started_at, completed_at, duration_ms, trigger)
                VALUES ('old', 'nightly', 'completed', 0, ?, ?, ?, 250, 'api')`,
          args: [today, today, today],
        },
        `INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, duration_ms, error,
           attempts, attempt_details, data)
         VALUES ('old', 0, 'test', 'qaagent', 1, 0, 5, NULL, 1, '[]', '{"total":3,"passed":2,"failures":[{"test":"t"}]}')`,
      ],
      'write',
    );
    v4.close();

    // Act
    const db = await openDatabase(resolveDatabaseTarget(path, {}));
    try {
      const s = storesOver(db, configFrom(''));
      // Assess
      expect(await s.insight.stats('nightly', { days: 1 })).toMatchObject({
        runs: 1,
        failed: 1,
        duration_ms: { p50: 250, p95: 250 },
        tests: { total: 3, failed: 1 },
      });
      expect((await s.history.listRuns({}))[0]?.tests).toEqual({ total: 3, passed: 2, failed: 1 });
    } finally {
      db.close();
    }
  });
});

describe('InsightStore.tests: what a lost lease leaves', () => {
  it('writes no test result for a run whose lease another process took', async () => {
    const s = await stores();
    const runId = await queueRun(s, 'nightly');
    await claimRun(s, runId, { owner: 'other-process' });
    const failing = step('test', { data: { total: 1, failed: 1, failures: [{ test: 'lost' }] } });

    await s.history.recordStep(
      runId,
      0,
      failing,
      OWNER,
      insightStatements(runId, 0, failing, OWNER),
    );

    expect(await s.insight.tests('nightly', { window: 50, limit: 50, offset: 0 })).toEqual([]);
    expect((await s.history.getRun(runId))?.tests).toBeNull();
  });

  it('writes each result once when a step is written again', async () => {
    const s = await stores();
    const runId = await queueRun(s, 'nightly');
    await claimRun(s, runId);
    const failing = step('test', { data: { total: 2, failed: 1, failures: [{ test: 'twice' }] } });
    const write = () =>
      s.history.recordStep(runId, 0, failing, OWNER, insightStatements(runId, 0, failing, OWNER));

    await write();
    await write();

    expect(await s.insight.tests('nightly', { window: 50, limit: 50, offset: 0 })).toMatchObject([
      { test: 'twice', failures: 1, passes: 0 },
    ]);
    const stats = await s.insight.stats('nightly', { days: 1 });
    expect(stats.tests).toEqual({ total: 2, failed: 1, failed_rate: 0.5 });
  });
});

describe('InsightStore.submittedBefore', () => {
  it('answers the failures submitted within the window, by test and error text', async () => {
    const s = await stores();
    const submit = step('submit_bugs', {
      service: 'bugalizer',
      data: {
        submitted: 2,
        submitted_tests: [
          { test: 'a', error: 'boom' },
          { test: 'b', error: '' },
        ],
      },
    });
    await runAt(s, NOW - 3 * DAY, 'succeeded', { steps: [submit] });

    const known = await s.insight.submittedBefore(
      'nightly',
      [
        { test: 'a', error: 'boom' },
        { test: 'a', error: 'other' },
        { test: 'b', error: '' },
      ],
      7,
      NOW,
    );

    expect(known).toEqual([
      { test: 'a', error: 'boom' },
      { test: 'b', error: '' },
    ]);
    expect(
      await s.insight.submittedBefore('nightly', [{ test: 'a', error: 'boom' }], 2, NOW),
    ).toEqual([]);
    expect(
      await s.insight.submittedBefore('smoke', [{ test: 'a', error: 'boom' }], 7, NOW),
    ).toEqual([]);
  });
});
