import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InStatement, InValue } from '@libsql/client';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, openDatabase } from '#shared/db/open.ts';
import { resolveDatabaseTarget } from '#shared/db/target.ts';
import { InsightStore, statsStatements, testsStatement } from './insight-store.ts';

/**
 * SPEC §14: the trends "from aggregate queries that stay under 50 ms at
 * 100,000 runs", and a flaky list whose work is its window's, not the
 * history's. Shown on 100,000 runs of one workflow over a year by the query
 * plans, by SQLite's counters of the work a statement did, and by the time.
 */

const LARGE = 100_000;
/**
 * A fifth of it, over the same year: enough runs for the largest window
 * (500), and for every day to fill the same 51 duration buckets.
 */
const SMALL = 20_000;
/** The 365 UTC days of `days=365`, today's included, hold every run. */
const YEAR_S = 364 * 24 * 60 * 60;
/** Runs are queued from 2025-06-02 up to this time, 2026-06-01 00:00 UTC (excluded). */
const END_S = 1_780_272_000;
const WORKFLOW = 'nightly';

/**
 * Seeds `runs` runs of WORKFLOW spread evenly over the year before END_S, each with a test
 * step of 3 tests (`always` fails, `flip` fails every other run, `steady` passes). Written as
 * SQL (the store's own API seeds the benchmark), but as a host would leave them: queued as
 * running, then completed, so that the triggers keep the day roll-ups as they do for every run.
 */
async function seed(db: Client, runs: number): Promise<void> {
  const args = { runs, wf: WORKFLOW, end: END_S, span: YEAR_S };
  await db.batch(
    [
      {
        sql: `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :runs - 1)
              INSERT INTO runs (run_id, workflow_name, status, queued_at, started_at, trigger)
              SELECT printf('run-%07d', i), :wf, 'running',
                strftime('%Y-%m-%dT%H:%M:%fZ', :end - :span + i * :span / :runs, 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%fZ', :end - :span + i * :span / :runs, 'unixepoch'), 'api'
              FROM n`,
        args,
      },
      `INSERT INTO test_steps (run_id, step_index, run_seq, workflow_name, day, step_type, reused, total, passed, failed)
        SELECT run_id, 1, seq, workflow_name, substr(queued_at, 1, 10), 'test', 0, 3, 2 - seq % 2, 1 + seq % 2 FROM runs`,
      `INSERT INTO test_results (run_id, test, step_index, run_seq, workflow_name, step_type, service, status, inferred)
        SELECT r.run_id, t.test, 1, r.seq, r.workflow_name, 'test', 'qaagent',
          CASE t.test WHEN 'always' THEN 'failed' WHEN 'steady' THEN 'passed'
            ELSE CASE r.seq % 2 WHEN 1 THEN 'failed' ELSE 'passed' END END, 0
        FROM runs AS r, (SELECT 'always' AS test UNION ALL SELECT 'flip' UNION ALL SELECT 'steady') AS t`,
      // Durations from 1 to 6 s cycling through 51 buckets (1.0e3 … 6.0e3), each day filling all of them.
      `UPDATE runs SET status = 'completed', success = seq % 3 != 0, completed_at = started_at,
        duration_ms = 1000 + (seq % 51) * 100`,
    ],
    'write',
  );
}

/** SQLite's counters for one execution of a statement (as in history-scale.test.ts). */
function measure(path: string, statement: InStatement): { nscan: number; nstep: number } {
  const raw = new Database(path);
  try {
    const sql = typeof statement === 'string' ? statement : statement.sql;
    const args = typeof statement === 'string' ? {} : (statement.args ?? {});
    raw.prepare<Record<string, InValue>>(sql).all(args as Record<string, InValue>);
    const counters = raw.prepare('SELECT nscan, nstep FROM sqlite_stmt WHERE sql = ?').get(sql) as
      | { nscan: number; nstep: number }
      | undefined;
    if (!counters) throw new Error('the statement is not in sqlite_stmt');
    return counters;
  } finally {
    raw.close();
  }
}

async function queryPlan(db: Client, statement: InStatement): Promise<string[]> {
  const { sql, args } = typeof statement === 'string' ? { sql: statement, args: [] } : statement;
  const plan = await db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: args ?? [] });
  return plan.rows.map((row) => String(row.detail));
}

async function medianMs(action: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await action(); // warm up
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[10] as number;
}

const NOW = END_S * 1000;
const YEAR_SINCE = new Date(NOW - 364 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);

let dir: string;
let large: { db: Client; path: string };
let small: { db: Client; path: string };
let seedMs = 0;

async function seeded(name: string, runs: number): Promise<{ db: Client; path: string }> {
  const path = join(dir, name);
  const db = await openDatabase(resolveDatabaseTarget(path, {}));
  await seed(db, runs);
  return { db, path };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-insight-scale-'));
  const started = performance.now();
  large = await seeded('large.db', LARGE);
  seedMs = performance.now() - started;
  small = await seeded('small.db', SMALL);
}, 120_000);

afterAll(() => {
  large?.db.close();
  small?.db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`the trends over ${LARGE.toLocaleString('en')} runs of one workflow`, () => {
  it('counts every run, through the roll-ups the triggers kept', async () => {
    const stats = await new InsightStore(large.db).stats(WORKFLOW, { days: 365, now: NOW });
    console.info(`seeded ${LARGE} runs with 3 test results each in ${Math.round(seedMs)} ms`);

    expect(stats.runs).toBe(LARGE);
    expect(stats.succeeded + stats.failed).toBe(LARGE);
    expect(stats.tests.total).toBe(3 * LARGE);
    expect(stats.by_day.reduce((sum, day) => sum + day.runs, 0)).toBe(LARGE);
  });

  it('reads the roll-ups through their indexes, never a run, with no sort', async () => {
    const [days, percentiles] = await Promise.all(
      statsStatements(WORKFLOW, YEAR_SINCE).map((statement) => queryPlan(large.db, statement)),
    );
    // The tables a plan reads: not its subqueries, CTEs and the constant rows of (50, 95).
    const tablesRead = (plan: string[] | undefined) =>
      (plan ?? []).filter((detail) => /^(SCAN|SEARCH) workflow_/.test(detail));

    expect(tablesRead(days)).toEqual([
      'SEARCH workflow_days USING PRIMARY KEY (workflow_name=? AND day>?)',
    ]);
    // Bucket by bucket, in the index's order: the GROUP BY needs no sort.
    expect(tablesRead(percentiles)).toEqual([
      'SEARCH workflow_day_durations USING COVERING INDEX workflow_durations_by_bucket (workflow_name=?)',
    ]);
    expect([...(days ?? []), ...(percentiles ?? [])].join('\n')).not.toMatch(
      /\b(runs|run_steps|test_results)\b|TEMP B-TREE FOR GROUP BY/,
    );
  });

  it(`does the same work over ${LARGE} runs as over ${SMALL}: per day and bucket, not per run`, () => {
    const work = (path: string) =>
      statsStatements(WORKFLOW, YEAR_SINCE).map((statement) => measure(path, statement));
    const onLarge = work(large.path);
    const onSmall = work(small.path);
    console.info(
      `stats over a year: ${onLarge.map((w) => w.nstep).join(' + ')} VM steps for ${LARGE} runs, ${onSmall.map((w) => w.nstep).join(' + ')} for ${SMALL}`,
    );

    onLarge.forEach(({ nscan, nstep }, i) => {
      expect(nscan).toBeLessThan(10); // the two constant rows of (50, 95), never a table
      expect(nstep).toBeLessThanOrEqual((onSmall[i]?.nstep ?? 0) * 1.1);
    });
  });

  it('answers a year in under 50 ms', async () => {
    const insight = new InsightStore(large.db);
    const year = await medianMs(() => insight.stats(WORKFLOW, { days: 365, now: NOW }));
    const month = await medianMs(() => insight.stats(WORKFLOW, { days: 30, now: NOW }));
    console.info(
      `stats over ${LARGE} runs: median ${year.toFixed(2)} ms for 365 days, ${month.toFixed(2)} ms for 30`,
    );

    expect(year).toBeLessThan(50);
    expect(month).toBeLessThan(50);
  });
});

describe(`the tests of a workflow with ${LARGE.toLocaleString('en')} runs`, () => {
  it.each([50, 500])(
    'window=%i: reads the window through the indexes, never every result',
    async (window) => {
      const plan = await queryPlan(
        large.db,
        testsStatement(WORKFLOW, { window, limit: 50, offset: 0 }),
      );
      const access = new Set(plan.filter((detail) => /^(SCAN|SEARCH) (t|w|f|b|r)\b/.test(detail)));

      // Each table through an index or its key; the results of the window's runs only (run_seq>?).
      expect([...access].sort()).toEqual([
        'SEARCH b USING PRIMARY KEY (run_id=? AND test=? AND step_index>? AND step_index<?)',
        'SEARCH f USING PRIMARY KEY (run_id=? AND test=? AND step_index<?)',
        'SEARCH r USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN',
        'SEARCH t USING COVERING INDEX test_results_by_workflow (workflow_name=? AND run_seq>?)',
        'SEARCH w USING COVERING INDEX test_steps_by_workflow (workflow_name=?)',
      ]);
    },
  );

  it.each([50, 500])(
    `window=%i: does the same work over ${LARGE} runs as over ${SMALL}`,
    (window) => {
      const statement = testsStatement(WORKFLOW, { window, limit: 50, offset: 0 });

      const onLarge = measure(large.path, statement);
      const onSmall = measure(small.path, statement);

      expect(onLarge.nscan).toBe(0);
      expect(onLarge.nstep).toBeLessThanOrEqual(onSmall.nstep * 1.1);
    },
  );

  it('gives the exact counts of the seeded pattern', async () => {
    const tests = await new InsightStore(large.db).tests(WORKFLOW, {
      window: 50,
      limit: 50,
      offset: 0,
    });

    expect(
      tests.map(({ test, failures, passes, flips, flaky }) => [
        test,
        failures,
        passes,
        flips,
        flaky,
      ]),
    ).toEqual([
      ['flip', 25, 25, 49, true],
      ['always', 50, 0, 0, false],
      ['steady', 0, 50, 0, false],
    ]);
  });
});
