import { describe, expect, it } from 'vitest';
import type { StepType } from '#shared/config/schema.ts';
import { openStores, type Stores } from '#shared/stores.ts';
import type { RunResult, RunStart, StepResult } from '#shared/workflow/types.ts';
import { configFrom, tempStores } from '#test/support/temp.ts';
import type { HistoryRecord } from './history-store.ts';

/** Stores on a fresh libSQL file, keeping `maxRecords` runs per workflow. */
function stores(maxRecords = 0): Promise<Stores> {
  return tempStores(configFrom(`history_max_records: ${maxRecords}\n`));
}

function step(step_type: StepType, overrides: Partial<StepResult> = {}): StepResult {
  return {
    step_type,
    service: 'qaagent',
    success: true,
    skipped: false,
    data: { step_type },
    error: null,
    duration_ms: 10.5,
    attempts: [{ attempt: 1, success: true, error: null, duration_ms: 10.5 }],
    ...overrides,
  };
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

let clock = Date.UTC(2026, 0, 1);
/** A run start with a fresh id and a later start time than the last. */
function start(workflow_name = 'smoke', step_count = 3): RunStart {
  clock += 1000;
  return {
    run_id: `${workflow_name}-${clock}`,
    workflow_name,
    started_at: new Date(clock).toISOString(),
    step_count,
  };
}

function resultOf(begun: RunStart, steps: StepResult[], success = true): RunResult {
  return {
    run_id: begun.run_id,
    workflow_name: begun.workflow_name,
    success,
    started_at: begun.started_at,
    completed_at: new Date(Date.parse(begun.started_at) + 250).toISOString(),
    duration_ms: 250.5,
    steps,
  };
}

/** Records a whole run the way the recorder does: start, then the completion with every step. */
async function recordWholeRun(s: Stores, workflow = 'smoke'): Promise<RunStart> {
  const begun = start(workflow);
  await s.history.startRun(begun);
  await s.history.completeRun(resultOf(begun, [step('discover')]));
  return begun;
}

async function count(s: Stores, sql: string, args: string[] = []): Promise<number> {
  return Number((await s.db.execute({ sql, args })).rows[0]?.n);
}

describe('HistoryStore: a run as it goes', () => {
  it('is running with success null from its start, before any step', async () => {
    const s = await stores();
    const begun = start();

    await s.history.startRun(begun);

    const expected: HistoryRecord = {
      run_id: begun.run_id,
      workflow_name: 'smoke',
      status: 'running',
      success: null,
      started_at: begun.started_at,
      completed_at: null,
      duration_ms: null,
      step_count: 0,
      steps: [],
    };
    expect(await s.history.listRuns({})).toEqual([expected]);
    expect(await s.history.getRun(begun.run_id)).toEqual(expected);
  });

  it('has each step as soon as it is recorded, with its data and attempts', async () => {
    const s = await stores();
    const begun = start();
    await s.history.startRun(begun);

    await s.history.recordStep(begun.run_id, 0, step('discover'));
    const [afterOne] = await s.history.listRuns({});
    await s.history.recordStep(begun.run_id, 1, FAILED_TWICE);

    expect(afterOne).toMatchObject({ status: 'running', step_count: 1 });
    const run = await s.history.getRun(begun.run_id);
    expect(run).toMatchObject({ status: 'running', success: null, step_count: 2 });
    expect(run?.steps[1]).toEqual({
      step_type: 'test',
      service: 'qaagent',
      success: false,
      skipped: false,
      duration_ms: 40.25,
      error: 'qaagent POST /api/runs: HTTP 503',
      attempts: 2,
      attempt_details: FAILED_TWICE.attempts,
      data: {},
    });
  });

  it('is completed with success, completed_at, duration_ms and every step, in the shape of SPEC §6', async () => {
    const s = await stores();
    const begun = start();
    await s.history.startRun(begun);
    await s.history.recordStep(begun.run_id, 0, step('discover'));
    const result = resultOf(begun, [step('discover'), FAILED_TWICE, SKIPPED], false);

    await s.history.completeRun(result, [
      { index: 1, step: FAILED_TWICE },
      { index: 2, step: SKIPPED },
    ]);

    const record = (await s.history.listRuns({}))[0];
    expect(record).toEqual({
      run_id: begun.run_id,
      workflow_name: 'smoke',
      status: 'completed',
      success: false,
      started_at: begun.started_at,
      completed_at: result.completed_at,
      duration_ms: 250.5,
      step_count: 3,
      steps: [
        {
          step_type: 'discover',
          service: 'qaagent',
          success: true,
          skipped: false,
          duration_ms: 10.5,
          error: null,
          attempts: 1,
        },
        {
          step_type: 'test',
          service: 'qaagent',
          success: false,
          skipped: false,
          duration_ms: 40.25,
          error: 'qaagent POST /api/runs: HTTP 503',
          attempts: 2,
        },
        {
          step_type: 'submit_bugs',
          service: 'bugalizer',
          success: true,
          skipped: true,
          duration_ms: 0,
          error: null,
          attempts: 0,
        },
      ],
    });
    const detail = await s.history.getRun(begun.run_id);
    expect(detail?.steps.map(({ attempt_details, data, ...rest }) => rest)).toEqual(record?.steps);
    expect(detail?.steps[2]?.data).toEqual(SKIPPED.data);
  });

  it('lists steps in declared order whatever order they finished in (a parallel batch)', async () => {
    const s = await stores();
    const begun = start();
    await s.history.startRun(begun);
    await s.history.recordStep(begun.run_id, 2, step('verify'));
    await s.history.recordStep(begun.run_id, 0, step('discover'));
    await s.history.recordStep(begun.run_id, 1, step('test'));

    const [listed] = await s.history.listRuns({});
    const detail = await s.history.getRun(begun.run_id);

    expect(listed?.steps.map((x) => x.step_type)).toEqual(['discover', 'test', 'verify']);
    expect(detail?.steps.map((x) => x.step_type)).toEqual(['discover', 'test', 'verify']);
  });
});

describe('HistoryStore: a completed run always has all its steps', () => {
  it('writes the completion and the pending steps in one transaction: a failed completion writes none of them', async () => {
    const s = await stores();
    const begun = start();
    await s.history.startRun(begun);
    await s.history.recordStep(begun.run_id, 0, step('discover'));
    // The database refuses the completion, after the batch's step inserts have run.
    await s.db.execute(`CREATE TRIGGER refuse_completion BEFORE UPDATE OF status ON runs
      WHEN NEW.status = 'completed' BEGIN SELECT RAISE(ABORT, 'disk said no'); END`);
    const result = resultOf(begun, [step('discover'), step('test'), step('report')]);
    const pending = [
      { index: 1, step: step('test') },
      { index: 2, step: step('report') },
    ];

    await expect(s.history.completeRun(result, pending)).rejects.toThrow('disk said no');

    expect(await s.history.getRun(begun.run_id)).toMatchObject({
      status: 'running',
      success: null,
      completed_at: null,
      step_count: 1,
    });
    await s.db.execute('DROP TRIGGER refuse_completion');
    await s.history.completeRun(result, pending);
    expect(await s.history.getRun(begun.run_id)).toMatchObject({
      status: 'completed',
      step_count: 3,
    });
  });

  it('writes every step by default, and leaves a step already written as it was', async () => {
    const s = await stores();
    const begun = start();
    await s.history.startRun(begun);
    await s.history.recordStep(begun.run_id, 0, step('discover', { data: { first: true } }));

    await s.history.completeRun(
      resultOf(begun, [step('discover', { data: { second: true } }), step('report')]),
    );

    const run = await s.history.getRun(begun.run_id);
    expect(run?.step_count).toBe(2);
    expect(run?.steps[0]?.data).toEqual({ first: true });
  });

  it('records a run whose start was never written, at its completion', async () => {
    const s = await stores();
    const begun = start();

    await s.history.completeRun(resultOf(begun, [step('discover')]));

    expect(await s.history.getRun(begun.run_id)).toMatchObject({
      status: 'completed',
      success: true,
      started_at: begun.started_at,
      step_count: 1,
    });
  });

  it('completes a run that another process marked interrupted while it was still going', async () => {
    const s = await stores();
    const begun = start();
    await s.history.startRun(begun);
    expect(await s.history.markInterrupted()).toBe(1);

    await s.history.completeRun(resultOf(begun, [step('discover')]));

    expect(await s.history.getRun(begun.run_id)).toMatchObject({ status: 'completed' });
  });
});

describe('HistoryStore.markInterrupted', () => {
  it('marks only running runs interrupted and keeps the steps that finished', async () => {
    const s = await stores();
    const done = await recordWholeRun(s);
    const left = start();
    await s.history.startRun(left);
    await s.history.recordStep(left.run_id, 0, step('discover'));

    expect(await s.history.markInterrupted()).toBe(1);
    expect(await s.history.markInterrupted()).toBe(0);

    expect(await s.history.getRun(left.run_id)).toMatchObject({
      status: 'interrupted',
      success: null,
      completed_at: null,
      step_count: 1,
    });
    expect(await s.history.getRun(done.run_id)).toMatchObject({ status: 'completed' });
  });
});

describe('HistoryStore queries', () => {
  it('lists the newest runs first, across workflows and per workflow, with limit and offset', async () => {
    const s = await stores();
    const ids: string[] = [];
    for (let i = 0; i < 14; i++) ids.push((await recordWholeRun(s, i % 2 ? 'odd' : 'even')).run_id);
    const newestFirst = ids.slice().reverse();
    const idsOf = (records: HistoryRecord[]) => records.map((r) => r.run_id);

    expect(idsOf(await s.history.listRuns({}))).toEqual(newestFirst.slice(0, 10)); // limit 10 by default
    expect(idsOf(await s.history.listRuns({ limit: 3 }))).toEqual(newestFirst.slice(0, 3));
    expect(idsOf(await s.history.listRuns({ limit: 3, offset: 12 }))).toEqual(
      newestFirst.slice(12),
    );
    expect(await s.history.listRuns({ limit: 5, offset: 14 })).toEqual([]);
    const odd = newestFirst.filter((id) => id.startsWith('odd'));
    expect(idsOf(await s.history.listRuns({ workflow: 'odd', limit: 50 }))).toEqual(odd);
    expect(idsOf(await s.history.listRuns({ workflow: 'odd', limit: 2, offset: 1 }))).toEqual(
      odd.slice(1, 3),
    );
    expect(await s.history.listRuns({ workflow: 'unknown', limit: 5 })).toEqual([]);
  });

  it('orders by start: a run started earlier stays older however late it completes', async () => {
    const s = await stores();
    const slow = start();
    await s.history.startRun(slow);
    const fast = await recordWholeRun(s);

    await s.history.completeRun(resultOf(slow, [step('discover')]));

    expect((await s.history.listRuns({})).map((r) => r.run_id)).toEqual([fast.run_id, slow.run_id]);
  });

  it('gets one run by id, and null for an unknown id', async () => {
    const s = await stores();
    const begun = await recordWholeRun(s);

    expect(await s.history.getRun(begun.run_id)).toMatchObject({
      run_id: begun.run_id,
      steps: [{ step_type: 'discover', data: { step_type: 'discover' } }],
    });
    expect(await s.history.getRun('no-such-run')).toBeNull();
  });

  it('is shared by two clients on one file: each sees the other’s runs as they go', async () => {
    const config = configFrom('history_max_records: 0\n');
    const a = await tempStores(config);
    const b = await openStores(config, {});
    try {
      const begun = start();
      await a.history.startRun(begun);
      expect(await b.history.getRun(begun.run_id)).toMatchObject({ status: 'running' });
      await b.history.recordStep(begun.run_id, 0, step('discover'));
      await a.history.completeRun(resultOf(begun, [step('discover'), step('report')]), [
        { index: 1, step: step('report') },
      ]);
      expect(await b.history.listRuns({})).toMatchObject([
        { run_id: begun.run_id, status: 'completed', step_count: 2 },
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
    for (let i = 0; i < 6; i++) smoke.push((await recordWholeRun(s, 'smoke')).run_id);
    const nightly = [(await recordWholeRun(s, 'nightly')).run_id];
    smoke.push((await recordWholeRun(s, 'smoke')).run_id);

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

  it('leaves running runs alone and does not count them', async () => {
    const s = await stores(2);
    const older = await recordWholeRun(s);
    const stillRunning = start();
    await s.history.startRun(stillRunning);
    await s.history.recordStep(stillRunning.run_id, 0, step('discover'));
    const recent = await recordWholeRun(s);
    // A run that finishes while a newer one is still running is kept.
    const newestRunning = start();
    await s.history.startRun(newestRunning);
    const last = await recordWholeRun(s);

    const statuses = (await s.history.listRuns({ limit: 100 })).map((r) => [r.run_id, r.status]);
    expect(statuses).toEqual([
      [last.run_id, 'completed'],
      [newestRunning.run_id, 'running'],
      [recent.run_id, 'completed'],
      [stillRunning.run_id, 'running'],
    ]);
    expect(await s.history.getRun(older.run_id)).toBeNull();
    expect((await s.history.getRun(stillRunning.run_id))?.step_count).toBe(1);
  });

  it('counts and deletes interrupted runs like completed ones', async () => {
    const s = await stores(1);
    const dead = start();
    await s.history.startRun(dead);
    await s.history.recordStep(dead.run_id, 0, step('discover'));
    await s.history.markInterrupted();

    const next = await recordWholeRun(s);

    expect((await s.history.listRuns({ limit: 100 })).map((r) => r.run_id)).toEqual([next.run_id]);
    expect(await count(s, 'SELECT count(*) AS n FROM run_steps')).toBe(1);
  });

  it('keeps every run with history_max_records: 0', async () => {
    const s = await stores(0);
    for (let i = 0; i < 25; i++) await recordWholeRun(s);

    expect(await s.history.listRuns({ limit: 1000 })).toHaveLength(25);
    expect(await count(s, 'SELECT count(*) AS n FROM run_steps')).toBe(25);
  });
});
