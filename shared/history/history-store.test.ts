import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultConfig } from '#shared/config/schema.ts';
import { historyRecordSchema } from '#shared/http-api/schemas.ts';
import { openStores, type Stores } from '#shared/stores.ts';
import { claimRun, finishRun, OWNER, queueRun, recordWholeRun, step } from '#test/support/runs.ts';
import { configFrom, tempDir, tempStores } from '#test/support/temp.ts';
import type { HistoryRecord } from './history-store.ts';

const historyPageSchema = z.array(historyRecordSchema);

/** Stores on a fresh libSQL file, keeping `maxRecords` runs per workflow. */
function stores(maxRecords = 0): Promise<Stores> {
  return tempStores(configFrom(`history_max_records: ${maxRecords}\n`));
}

const FAILED_TWICE = step('test', {
  success: false,
  data: {},
  error: 'qaagent POST /api/runs: HTTP 503',
  duration_ms: 40.25,
  attempts: [
    { attempt: 1, success: false, error: 'qaagent POST /api/runs: HTTP 503', duration_ms: 20 },
    { attempt: 2, success: false, error: 'qaagent POST /api/runs: HTTP 503', duration_ms: 20.25 },
  ],
});
const SKIPPED = step('submit_bugs', {
  service: 'bugalizer',
  skipped: true,
  data: { message: "Skipped: condition 'on_success' not met" },
  duration_ms: 0,
  attempts: [],
});

async function count(s: Stores, sql: string, args: string[] = []): Promise<number> {
  return Number((await s.db.execute({ sql, args })).rows[0]?.n);
}

describe('HistoryStore: a run as it goes', () => {
  it('is queued with no start and success null, then running from its claim', async () => {
    const s = await stores();
    const runId = await queueRun(s, 'smoke', { triggeredBy: 'ci-key', traceId: 'a'.repeat(32) });

    const queued = await s.history.getRun(runId);
    const expected: HistoryRecord = {
      run_id: runId,
      workflow_name: 'smoke',
      status: 'queued',
      success: null,
      queued_at: expect.any(String) as unknown as string,
      started_at: null,
      completed_at: null,
      duration_ms: null,
      trigger: 'api',
      triggered_by: 'ci-key',
      parent_run_id: null,
      reason: null,
      trace_id: 'a'.repeat(32),
      step_count: 0,
      tests: null,
      steps: [],
    };
    expect(queued).toEqual(expected);
    expect(await s.history.listRuns({})).toEqual([expected]);

    const claim = await claimRun(s, runId);
    expect(await s.history.getRun(runId)).toMatchObject({
      status: 'running',
      success: null,
      started_at: claim.startedAt,
    });
  });

  it('has each step as soon as it is recorded, with its data and attempts', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);

    await s.history.recordStep(runId, 0, step('discover'), OWNER);
    const [afterOne] = await s.history.listRuns({});
    await s.history.recordStep(runId, 1, FAILED_TWICE, OWNER);

    expect(afterOne).toMatchObject({ status: 'running', step_count: 1 });
    const run = await s.history.getRun(runId);
    expect(run).toMatchObject({ status: 'running', success: null, step_count: 2 });
    expect(run?.steps[1]).toEqual({
      step_type: 'test',
      service: 'qaagent',
      success: false,
      skipped: false,
      reused: false,
      duration_ms: 40.25,
      error: 'qaagent POST /api/runs: HTTP 503',
      attempts: 2,
      attempt_details: FAILED_TWICE.attempts,
      data: {},
    });
  });

  it('is completed with success, completed_at, duration_ms and every step, in the shape of SPEC §6', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);
    await s.history.recordStep(runId, 0, step('discover'), OWNER);

    await finishRun(
      s,
      runId,
      [
        { index: 1, step: FAILED_TWICE },
        { index: 2, step: SKIPPED },
      ],
      { success: false },
    );

    const record = (await s.history.listRuns({}))[0];
    expect(record).toMatchObject({
      run_id: runId,
      status: 'completed',
      success: false,
      duration_ms: 250.5,
      step_count: 3,
      reason: null,
    });
    expect(record?.completed_at).toEqual(expect.any(String));
    expect(record?.steps).toEqual([
      {
        step_type: 'discover',
        service: 'qaagent',
        success: true,
        skipped: false,
        reused: false,
        duration_ms: 10.5,
        error: null,
        attempts: 1,
      },
      {
        step_type: 'test',
        service: 'qaagent',
        success: false,
        skipped: false,
        reused: false,
        duration_ms: 40.25,
        error: 'qaagent POST /api/runs: HTTP 503',
        attempts: 2,
      },
      {
        step_type: 'submit_bugs',
        service: 'bugalizer',
        success: true,
        skipped: true,
        reused: false,
        duration_ms: 0,
        error: null,
        attempts: 0,
      },
    ]);
    const detail = await s.history.getRun(runId);
    expect(detail?.steps.map(({ attempt_details, data, ...rest }) => rest)).toEqual(record?.steps);
    expect(detail?.steps[2]?.data).toEqual(SKIPPED.data);
  });

  it('lists steps in declared order whatever order they finished in (a parallel batch)', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);
    await s.history.recordStep(runId, 2, step('verify'), OWNER);
    await s.history.recordStep(runId, 0, step('discover'), OWNER);
    await s.history.recordStep(runId, 1, step('test'), OWNER);

    const [listed] = await s.history.listRuns({});
    const detail = await s.history.getRun(runId);

    expect(listed?.steps.map((x) => x.step_type)).toEqual(['discover', 'test', 'verify']);
    expect(detail?.steps.map((x) => x.step_type)).toEqual(['discover', 'test', 'verify']);
  });
});

describe('HistoryStore: a completed run always has all its steps, and only its executor writes it', () => {
  it('writes the end and the pending steps in one transaction: a failed end writes none of them', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);
    await s.history.recordStep(runId, 0, step('discover'), OWNER);
    // The database refuses the completion, after the batch's step inserts have run.
    await s.db.execute(`CREATE TRIGGER refuse_completion BEFORE UPDATE OF status ON runs
      WHEN NEW.status = 'completed' BEGIN SELECT RAISE(ABORT, 'disk said no'); END`);
    const pending = [
      { index: 1, step: step('test') },
      { index: 2, step: step('report') },
    ];

    await expect(finishRun(s, runId, pending)).rejects.toThrow('disk said no');

    expect(await s.history.getRun(runId)).toMatchObject({
      status: 'running',
      success: null,
      completed_at: null,
      step_count: 1,
    });
    await s.db.execute('DROP TRIGGER refuse_completion');
    await finishRun(s, runId, pending);
    expect(await s.history.getRun(runId)).toMatchObject({ status: 'completed', step_count: 3 });
  });

  it('leaves a step already written as it was', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);
    await s.history.recordStep(runId, 0, step('discover', { data: { first: true } }), OWNER);

    await finishRun(s, runId, [
      { index: 0, step: step('discover', { data: { second: true } }) },
      { index: 1, step: step('report') },
    ]);

    const run = await s.history.getRun(runId);
    expect(run?.step_count).toBe(2);
    expect(run?.steps[0]?.data).toEqual({ first: true });
  });

  it('writes nothing for a process that no longer holds the lease: steps and end are ignored', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);
    await s.history.recordStep(runId, 0, step('discover'), OWNER);
    // Another process found the lease expired and reconciled the run.
    expect(await s.queue.interrupt(runId, 'worker lost')).toMatchObject({ workflow: 'smoke' });

    await s.history.recordStep(runId, 1, step('test'), OWNER);
    const ended = await finishRun(s, runId, [{ index: 2, step: step('report') }]);

    expect(ended.recorded).toBe(false);
    expect(await s.history.getRun(runId)).toMatchObject({
      status: 'interrupted',
      reason: 'worker lost',
      success: null,
      step_count: 1,
    });
  });
});

describe('HistoryStore queries', () => {
  it('lists the newest runs first, across workflows and per workflow, with limit and offset', async () => {
    const s = await stores();
    const ids: string[] = [];
    for (let i = 0; i < 14; i++) ids.push(await recordWholeRun(s, i % 2 ? 'odd' : 'even'));
    const newestFirst = ids.slice().reverse();
    const odd = ids.filter((_, i) => i % 2 === 1).reverse();

    expect(idsOf(await s.history.listRuns({}))).toEqual(newestFirst.slice(0, 10)); // limit 10 by default
    expect(idsOf(await s.history.listRuns({ limit: 3 }))).toEqual(newestFirst.slice(0, 3));
    expect(idsOf(await s.history.listRuns({ limit: 3, offset: 12 }))).toEqual(
      newestFirst.slice(12),
    );
    expect(await s.history.listRuns({ limit: 5, offset: 14 })).toEqual([]);
    expect(idsOf(await s.history.listRuns({ workflow: 'odd', limit: 50 }))).toEqual(odd);
    expect(idsOf(await s.history.listRuns({ workflow: 'odd', limit: 2, offset: 1 }))).toEqual(
      odd.slice(1, 3),
    );
    expect(await s.history.listRuns({ workflow: 'unknown', limit: 5 })).toEqual([]);
  });

  it('filters by status, across workflows and per workflow', async () => {
    const s = await stores();
    const done = await recordWholeRun(s, 'smoke');
    const waiting = await queueRun(s, 'smoke');
    const going = await queueRun(s, 'nightly');
    await claimRun(s, going);

    expect(idsOf(await s.history.listRuns({ status: 'completed' }))).toEqual([done]);
    expect(idsOf(await s.history.listRuns({ status: 'queued' }))).toEqual([waiting]);
    expect(idsOf(await s.history.listRuns({ status: 'running' }))).toEqual([going]);
    expect(idsOf(await s.history.listRuns({ workflow: 'smoke', status: 'queued' }))).toEqual([
      waiting,
    ]);
    expect(await s.history.listRuns({ workflow: 'nightly', status: 'queued' })).toEqual([]);
  });

  it('orders by queue order: a run queued earlier stays older however late it completes', async () => {
    const s = await stores();
    const slow = await queueRun(s);
    await claimRun(s, slow);
    const fast = await recordWholeRun(s);

    await finishRun(s, slow, [{ index: 0, step: step('discover') }]);

    expect((await s.history.listRuns({})).map((r) => r.run_id)).toEqual([fast, slow]);
  });

  it('gets one run by id (and its status alone), and null for an unknown id', async () => {
    const s = await stores();
    const runId = await recordWholeRun(s);

    expect(await s.history.getRun(runId)).toMatchObject({
      run_id: runId,
      steps: [{ step_type: 'discover', data: { step_type: 'discover' } }],
    });
    expect(await s.history.statusOf(runId)).toBe('completed');
    expect(await s.history.getRun('no-such-run')).toBeNull();
    expect(await s.history.statusOf('no-such-run')).toBeNull();
  });

  it('is shared by two clients on one file: each sees the other’s runs as they go', async () => {
    const config = configFrom('history_max_records: 0\n');
    const a = await tempStores(config);
    const b = await openStores(config, {});
    try {
      const runId = await queueRun(a);
      expect(await b.history.getRun(runId)).toMatchObject({ status: 'queued' });
      await claimRun(b, runId);
      await b.history.recordStep(runId, 0, step('discover'), OWNER);
      expect(await a.history.getRun(runId)).toMatchObject({ status: 'running', step_count: 1 });
      await finishRun(a, runId, [{ index: 1, step: step('report') }]);
      expect(await b.history.listRuns({})).toMatchObject([
        { run_id: runId, status: 'completed', step_count: 2 },
      ]);
    } finally {
      b.db.close();
    }
  });
});

describe('HistoryStore retention (history_max_records)', () => {
  it("keeps each workflow's newest N runs and deletes older runs with their steps", async () => {
    const s = await stores(3);
    const smoke: string[] = [];
    for (let i = 0; i < 6; i++) smoke.push(await recordWholeRun(s, 'smoke'));
    const nightly = [await recordWholeRun(s, 'nightly')];
    smoke.push(await recordWholeRun(s, 'smoke'));

    const kept = (await s.history.listRuns({ workflow: 'smoke', limit: 100 })).map((r) => r.run_id);
    expect(kept).toEqual(smoke.slice(-3).reverse());
    const deleted = smoke.slice(0, -3);
    for (const id of deleted) expect(await s.history.getRun(id)).toBeNull();
    expect(
      await count(
        s,
        `SELECT count(*) AS n FROM run_steps WHERE run_id IN (${deleted.map(() => '?').join()})`,
        deleted,
      ),
    ).toBe(0);
    expect(await count(s, 'SELECT count(*) AS n FROM run_steps')).toBe(4);
    expect((await s.history.listRuns({ workflow: 'nightly' })).map((r) => r.run_id)).toEqual(
      nightly,
    );
  });

  it('leaves queued and running runs alone and does not count them', async () => {
    const s = await stores(2);
    const older = await recordWholeRun(s);
    const stillRunning = await queueRun(s);
    await claimRun(s, stillRunning);
    await s.history.recordStep(stillRunning, 0, step('discover'), OWNER);
    const recent = await recordWholeRun(s);
    const waiting = await queueRun(s);
    const last = await recordWholeRun(s);

    const statuses = (await s.history.listRuns({ limit: 100 })).map((r) => [r.run_id, r.status]);
    expect(statuses).toEqual([
      [last, 'completed'],
      [waiting, 'queued'],
      [recent, 'completed'],
      [stillRunning, 'running'],
    ]);
    expect(await s.history.getRun(older)).toBeNull();
    expect((await s.history.getRun(stillRunning))?.step_count).toBe(1);
  });

  it('counts and deletes interrupted and cancelled runs like completed ones', async () => {
    const s = await stores(1);
    const dead = await queueRun(s);
    await claimRun(s, dead);
    await s.history.recordStep(dead, 0, step('discover'), OWNER);
    await s.queue.interrupt(dead, 'worker lost');
    const dropped = await queueRun(s);
    await s.queue.requestCancel(dropped, 'not needed');

    const next = await recordWholeRun(s);

    expect((await s.history.listRuns({ limit: 100 })).map((r) => r.run_id)).toEqual([next]);
    expect(await count(s, 'SELECT count(*) AS n FROM run_steps')).toBe(1);
  });

  it('keeps every run with history_max_records: 0', async () => {
    const s = await stores(0);
    for (let i = 0; i < 25; i++) await recordWholeRun(s);

    expect(await s.history.listRuns({ limit: 1000 })).toHaveLength(25);
    expect(await count(s, 'SELECT count(*) AS n FROM run_steps')).toBe(25);
  });
});

describe('HistoryStore: a page as the API sends it', () => {
  it('is JSON built by SQL with the documented types: booleans, nulls, counts, steps in order', async () => {
    const s = await stores();
    const queued = await queueRun(s, 'smoke');
    const done = await queueRun(s, 'smoke');
    await claimRun(s, done);
    const passed = step('test', {
      data: { total: 4, passed: 3, failed: 1, failures: [{ test: 'a' }] },
    });
    await finishRun(
      s,
      done,
      [
        { index: 1, step: SKIPPED },
        { index: 0, step: passed },
        { index: 2, step: FAILED_TWICE },
      ],
      { success: false, durationMs: 12.5 },
    );

    const page = await s.history.listRunsJson({});
    const [newest, oldest] = historyPageSchema.parse(JSON.parse(page));
    expect(newest).toMatchObject({
      run_id: done,
      status: 'completed',
      success: false,
      duration_ms: 12.5,
      step_count: 3,
      tests: { total: 4, passed: 3, failed: 1 },
    });
    expect(newest?.steps.map((st) => [st.step_type, st.success, st.skipped, st.attempts])).toEqual([
      ['test', true, false, 1],
      ['submit_bugs', true, true, 0],
      ['test', false, false, 2],
    ]);
    expect(oldest).toMatchObject({
      run_id: queued,
      status: 'queued',
      success: null,
      started_at: null,
      step_count: 0,
      tests: null,
      steps: [],
    });
    expect(await s.history.listRuns({})).toEqual(JSON.parse(page));
    expect(await s.history.listRunsJson({ workflow: 'nightly' })).toBe('[]');
  });
});

const idsOf = (records: HistoryRecord[]) => records.map((r) => r.run_id);

describe('HistoryStore: pages kept while nothing is written', () => {
  it('reads a page again once this process, or another connection to the file, wrote', async () => {
    const dir = tempDir();
    const config = { ...defaultConfig(), history_db_path: join(dir, 'h.db') };
    const reader = await openStores(config, {});
    const writer = await openStores(config, {});
    try {
      const first = await recordWholeRun(writer);
      expect(idsOf(await reader.history.listRuns({}))).toEqual([first]);
      expect(idsOf(await reader.history.listRuns({}))).toEqual([first]);

      // Another connection (as another process would) commits: the reader sees it.
      const second = await recordWholeRun(writer);
      expect(idsOf(await reader.history.listRuns({}))).toEqual([second, first]);
      // Its own writes too, and a status change that adds no run.
      const third = await queueRun(reader);
      expect(idsOf(await reader.history.listRuns({}))).toEqual([third, second, first]);
      await claimRun(reader, third);
      expect((await reader.history.listRuns({}))[0]?.status).toBe('running');
      // Each page is its own: another limit or filter is not answered with a kept page.
      expect(idsOf(await reader.history.listRuns({ limit: 1 }))).toEqual([third]);
      expect(idsOf(await reader.history.listRuns({ status: 'completed' }))).toEqual([
        second,
        first,
      ]);
    } finally {
      reader.db.close();
      writer.db.close();
    }
  });
});
