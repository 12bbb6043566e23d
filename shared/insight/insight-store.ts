import type { Client, InStatement, Row } from '@libsql/client';
import { statement } from '../db/statement.ts';
import { roundMs } from '../time.ts';
import { INFERENCE_RUNS, windowStartSql } from './record.ts';
import { type FailureKey, fingerprintOf } from './test-entries.ts';

/** One test of a workflow over its last `window` runs with tests (SPEC §14). */
export interface TestInsight {
  test: string;
  /** Runs of the window where it failed, and where it passed (and did not fail). */
  failures: number;
  passes: number;
  /** Runs whose outcome differs from the previous run of the window where it was seen. */
  flips: number;
  /** failures / (failures + passes). */
  failure_rate: number;
  /** When the newest run where it failed started, and that run. */
  last_failed_at: string | null;
  last_failed_run_id: string | null;
  flaky: boolean;
}

export interface TestsQuery {
  window: number;
  /** true: the flaky tests only; false: the others only; undefined: all. */
  flaky?: boolean | undefined;
  limit: number;
  offset: number;
}

export interface DayStats {
  /** The UTC date, `YYYY-MM-DD`. */
  date: string;
  runs: number;
  succeeded: number;
  failed: number;
  /** The median duration of the day's completed runs; null without any. */
  p50_ms: number | null;
}

/** A workflow's trends over its runs queued in the last `days` UTC days, today included (SPEC §14). */
export interface WorkflowStats {
  days: number;
  /** The first day counted (UTC), `YYYY-MM-DD`. */
  since: string;
  /** Runs that ended: completed (succeeded or failed), cancelled or interrupted. */
  runs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  interrupted: number;
  /** succeeded / (succeeded + failed): of the runs that completed; null without any. */
  success_rate: number | null;
  /** Of the completed runs' durations; null without any. */
  duration_ms: { p50: number | null; p95: number | null };
  /** The tests the agents counted in the runs' test and verify steps, and the share that failed. */
  tests: { total: number; failed: number; failed_rate: number | null };
  /** Every day of the period, oldest first, days without runs included. */
  by_day: DayStats[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The largest `window` of the tests list: as far back as passes are inferred. */
export const MAX_WINDOW = INFERENCE_RUNS;
/** The longest period of the trends. */
export const MAX_DAYS = 365;

/** The UTC date of a time, `YYYY-MM-DD`. */
function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The statement behind `tests()` (exported so that tests can read its plan).
 * A test's outcome in a run combines its steps: failed when any step of the
 * run recorded it failed, passed when some step recorded it passed (or
 * inferred a pass) and none failed it; a run where it was only skipped, or
 * not named, is not a run where it was seen.
 */
export function testsStatement(workflow: string, query: TestsQuery): InStatement {
  return statement(
    `WITH
      seen AS (
        SELECT t.run_id, t.run_seq, t.test, t.step_index, t.step_type, t.status FROM test_results AS t
        WHERE t.workflow_name = :wf AND t.status != 'skipped' AND t.run_seq >= ${windowStartSql(':wf', null)}),
      outcomes AS (
        SELECT test, run_seq, max(status = 'failed') AS failed FROM seen GROUP BY test, run_seq),
      flipped AS (
        SELECT test, run_seq, failed,
          coalesce(failed != lag(failed) OVER (PARTITION BY test ORDER BY run_seq), 0) AS flip
        FROM outcomes),
      -- Failed in a test step, then passed in a later verify step of the same run, with no submit_bugs
      -- step between them that handed it on.
      retried AS (
        SELECT DISTINCT v.test FROM seen AS v
        WHERE v.step_type = 'verify' AND v.status = 'passed' AND EXISTS (
          SELECT 1 FROM test_results AS f
          WHERE f.run_id = v.run_id AND f.test = v.test AND f.step_index < v.step_index
            AND f.step_type = 'test' AND f.status = 'failed'
            AND NOT EXISTS (
              SELECT 1 FROM bug_reports AS b
              WHERE b.run_id = f.run_id AND b.test = f.test
                AND b.step_index > f.step_index AND b.step_index < v.step_index))),
      scored AS (
        SELECT test, sum(failed) AS failures, count(*) - sum(failed) AS passes, sum(flip) AS flips,
          max(CASE WHEN failed THEN run_seq END) AS last_failed_seq
        FROM flipped GROUP BY test),
      judged AS (
        SELECT scored.*, 1.0 * failures / (failures + passes) AS failure_rate,
          (failures > 0 AND passes > 0 AND flips >= 2) OR test IN (SELECT test FROM retried) AS flaky
        FROM scored)
    SELECT j.test, j.failures, j.passes, j.flips, j.failure_rate, j.flaky,
      r.started_at AS last_failed_at, r.run_id AS last_failed_run_id
    FROM judged AS j LEFT JOIN runs AS r ON r.seq = j.last_failed_seq
    WHERE :flaky IS NULL OR j.flaky = :flaky
    ORDER BY j.flaky DESC, j.failure_rate DESC, j.failures DESC, j.test
    LIMIT :limit OFFSET :offset`,
    {
      wf: workflow,
      runs: query.window,
      flaky: query.flaky === undefined ? null : query.flaky ? 1 : 0,
      limit: query.limit,
      offset: query.offset,
    },
  );
}

/**
 * The statements behind `stats()`, read in one batch (exported so that tests
 * can read their plans): the period's days, with the counts and the median
 * that the database keeps per workflow and day as runs end, and the
 * period's p50 and p95 from the per-day duration histograms, added up bucket
 * by bucket. Neither reads a run: the work grows with the days and the
 * buckets, not with the number of runs.
 *
 * Percentiles are nearest-rank (the ceil(n × p / 100)-th of the n completed
 * runs' durations in ascending order), located in a histogram whose buckets
 * have two significant digits (…, 9.9, 10, 11, …, 99, 100, 110, … ms) and
 * hold their smallest and largest duration: the bucket holding the rank is
 * found by a running count, and the value is interpolated between its
 * smallest and largest duration by the rank's place in it. So it is exact
 * when that bucket holds at most two runs, and otherwise within it (a
 * bucket spans at most 10 % of its value). Each day's median is read the
 * same way, by the trigger that keeps it.
 */
export function statsStatements(workflow: string, since: string): InStatement[] {
  const args = { wf: workflow, since };
  return [
    statement(
      `SELECT day, runs, succeeded, failed, cancelled, interrupted, tests_total, tests_failed, p50_ms
        FROM workflow_days WHERE workflow_name = :wf AND day >= :since ORDER BY day`,
      args,
    ),
    statement(
      `WITH b AS (
          SELECT bucket, sum(runs) AS runs, min(min_ms) AS min_ms, max(max_ms) AS max_ms
          FROM workflow_day_durations INDEXED BY workflow_durations_by_bucket
          WHERE workflow_name = :wf AND day >= :since AND runs > 0 GROUP BY bucket),
        h AS (
          SELECT b.*, sum(runs) OVER (ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS upto,
            sum(runs) OVER () AS total
          FROM b),
        -- The nearest rank of each percentile: ceil(total × pct / 100), in integers.
        ranked AS (
          SELECT h.*, p.pct, max(1, (total * p.pct + 99) / 100) AS rank
          FROM h, (SELECT 50 AS pct UNION ALL SELECT 95) AS p)
      -- The bucket holding the rank, interpolated between its smallest and largest duration.
      SELECT pct, min_ms + (max_ms - min_ms) * (rank - (upto - runs) - 1) / max(runs - 1, 1) AS ms
      FROM ranked WHERE upto >= rank AND upto - runs < rank`,
      args,
    ),
  ];
}

/** The test insight's reads (SPEC §14): flaky tests, trends, and what dedupe asks. */
export class InsightStore {
  readonly #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /** Which of `failures` a submit_bugs step of `workflow` submitted within the last `withinDays` days. */
  async submittedBefore(
    workflow: string,
    failures: readonly FailureKey[],
    withinDays: number,
    now = Date.now(),
  ): Promise<FailureKey[]> {
    const byFingerprint = new Map(failures.map((key) => [fingerprintOf(key), key]));
    const result = await this.#db.execute({
      sql: `SELECT DISTINCT fingerprint FROM bug_reports
            WHERE workflow_name = ? AND fingerprint IN (SELECT value FROM json_each(?)) AND at >= ?`,
      args: [workflow, JSON.stringify([...byFingerprint.keys()]), now - withinDays * DAY_MS],
    });
    return result.rows.flatMap((row) => byFingerprint.get(String(row.fingerprint)) ?? []);
  }

  /** The workflow's tests over its last `window` runs with tests: flaky first, then by failure rate. */
  async tests(workflow: string, query: TestsQuery): Promise<TestInsight[]> {
    const result = await this.#db.execute(testsStatement(workflow, query));
    return result.rows.map((row) => ({
      test: String(row.test),
      failures: Number(row.failures),
      passes: Number(row.passes),
      flips: Number(row.flips),
      failure_rate: Number(row.failure_rate),
      last_failed_at: row.last_failed_at === null ? null : String(row.last_failed_at),
      last_failed_run_id: row.last_failed_run_id === null ? null : String(row.last_failed_run_id),
      flaky: Number(row.flaky) === 1,
    }));
  }

  /** The workflow's trends over the last `days` UTC days, today included. */
  async stats(workflow: string, { days, now = Date.now() }: { days: number; now?: number }) {
    const since = utcDate(now - (days - 1) * DAY_MS);
    const [daysResult, percentilesResult] = await this.#db.batch(
      statsStatements(workflow, since),
      'read',
    );
    const rows = new Map((daysResult?.rows ?? []).map((row) => [String(row.day), row]));
    const percentile = (pct: number) => {
      const row = percentilesResult?.rows.find((r) => Number(r.pct) === pct);
      return row ? roundMs(Number(row.ms)) : null;
    };
    const sum = (column: string) =>
      [...rows.values()].reduce((total, row: Row) => total + Number(row[column]), 0);
    const by_day: DayStats[] = [];
    for (let i = 0; i < days; i++) {
      const date = utcDate(now - (days - 1 - i) * DAY_MS);
      const row = rows.get(date);
      const median = row?.p50_ms;
      by_day.push({
        date,
        runs: Number(row?.runs ?? 0),
        succeeded: Number(row?.succeeded ?? 0),
        failed: Number(row?.failed ?? 0),
        p50_ms: median === undefined || median === null ? null : roundMs(Number(median)),
      });
    }
    const succeeded = sum('succeeded');
    const failed = sum('failed');
    const testsTotal = sum('tests_total');
    const testsFailed = sum('tests_failed');
    const stats: WorkflowStats = {
      days,
      since,
      runs: sum('runs'),
      succeeded,
      failed,
      cancelled: sum('cancelled'),
      interrupted: sum('interrupted'),
      success_rate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
      duration_ms: { p50: percentile(50), p95: percentile(95) },
      tests: {
        total: testsTotal,
        failed: testsFailed,
        failed_rate: testsTotal === 0 ? null : testsFailed / testsTotal,
      },
      by_day,
    };
    return stats;
  }
}
