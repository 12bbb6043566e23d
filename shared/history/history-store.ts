import type { Client, InStatement, Row } from '@libsql/client';
import type { StepType } from '../config/schema.ts';
import type { RunStatus, RunTrigger } from '../runs/run-queue.ts';
import type { StepAttempt, StepResult } from '../workflow/types.ts';

export { RUN_STATUSES, type RunStatus } from '../runs/run-queue.ts';

/**
 * A history record (SPEC §6, §11): `attempts` is a count here, `step_count`
 * the steps recorded so far. `started_at` is null while the run is queued.
 */
export interface HistoryRecord {
  run_id: string;
  workflow_name: string;
  status: RunStatus;
  success: boolean | null;
  queued_at: string;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  trigger: RunTrigger;
  /** The name of the API key that started it, or null. */
  triggered_by: string | null;
  parent_run_id: string | null;
  /** Why it was cancelled or interrupted. */
  reason: string | null;
  trace_id: string | null;
  step_count: number;
  /** What its test steps counted (SPEC §14); null when no test or verify step answered. */
  tests: TestCounts | null;
  steps: HistoryStep[];
}

/**
 * A run's tests as its agents counted them: the sums of its `test` steps'
 * `total`, `passed` and `failed` (`failed` at least the step's number of
 * `failures`, `total` at least passed + failed) — of its `verify` steps when
 * it has no test step that answered (a verify step re-runs the same tests,
 * so the two are not added up).
 */
export interface TestCounts {
  total: number;
  passed: number;
  failed: number;
}

export interface HistoryStep {
  step_type: StepType;
  service: string;
  success: boolean;
  skipped: boolean;
  /** Copied from the parent run by a rerun, not called again. */
  reused: boolean;
  duration_ms: number;
  error: string | null;
  attempts: number;
}

/** One run with everything recorded of its steps: their data and every attempt. */
export interface HistoryRecordDetail extends Omit<HistoryRecord, 'steps'> {
  steps: (HistoryStep & { attempt_details: StepAttempt[]; data: Record<string, unknown> })[];
}

export interface ListRunsOptions {
  workflow?: string | undefined;
  status?: RunStatus | undefined;
  /** 10 when omitted (SPEC §4). */
  limit?: number;
  offset?: number;
}

const RUN_COLUMNS = `r.seq, r.run_id, r.workflow_name, r.status, r.success, r.queued_at, r.started_at,
  r.completed_at, r.duration_ms, r.trigger, r.triggered_by, r.parent_run_id, r.reason, r.trace_id`;
/** SQLite's 0/1 as a JSON boolean (null stays null). */
const jsonBoolean = (column: string) =>
  `CASE ${column} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END`;
/**
 * A run's `tests` (TestCounts) as JSON, read through test_steps' primary key:
 * the sums of its test steps, else of its verify steps, else null.
 */
const TEST_COUNTS_JSON = `json((SELECT CASE WHEN count(*) > 0 THEN json_object('total', sum(t.total),
    'passed', sum(t.passed), 'failed', sum(t.failed)) END
  FROM test_steps AS t WHERE t.run_id = r.run_id AND t.step_type = CASE WHEN EXISTS
    (SELECT 1 FROM test_steps AS u WHERE u.run_id = r.run_id AND u.step_type = 'test')
    THEN 'test' ELSE 'verify' END))`;
const TEST_COUNTS = `${TEST_COUNTS_JSON} AS tests`;
/** One run of a history page as the API answers it (HistoryRecord), built by SQLite's JSON functions. */
const RUN_RECORD_JSON = `json_object('run_id', r.run_id, 'workflow_name', r.workflow_name,
  'status', r.status, 'success', ${jsonBoolean('r.success')}, 'queued_at', r.queued_at,
  'started_at', r.started_at, 'completed_at', r.completed_at, 'duration_ms', r.duration_ms,
  'trigger', r.trigger, 'triggered_by', r.triggered_by, 'parent_run_id', r.parent_run_id,
  'reason', r.reason, 'trace_id', r.trace_id,
  'step_count', (SELECT count(*) FROM run_steps AS s WHERE s.run_id = r.run_id),
  'tests', ${TEST_COUNTS_JSON},
  'steps', (SELECT json_group_array(json_object('step_type', s.step_type, 'service', s.service,
      'success', ${jsonBoolean('s.success')}, 'skipped', ${jsonBoolean('s.skipped')},
      'reused', ${jsonBoolean('s.reused')}, 'duration_ms', s.duration_ms, 'error', s.error,
      'attempts', s.attempts))
    FROM run_steps AS s WHERE s.run_id = r.run_id))`;
const STEP_COLUMNS =
  's.step_index, s.step_type, s.service, s.success AS step_success, s.skipped, s.reused, s.duration_ms AS step_duration_ms, s.error, s.attempts';

/** A client that can tell whether anything was written since (the native file client). */
interface ChangeTokens {
  changeToken(): string;
}

function hasChangeTokens(db: Client): db is Client & ChangeTokens {
  return typeof (db as Partial<ChangeTokens>).changeToken === 'function';
}

/** History pages kept while nothing is written; a bound keeps odd page requests from piling up. */
const MAX_KEPT_PAGES = 64;

/**
 * The run history (SPEC §4): what the run queue recorded, read back. Steps
 * are written as they finish, only while the writer still holds the run's
 * lease, so a run reconciled by another process is never written to again.
 */
export class HistoryStore {
  readonly #db: Client;
  /** Pages as sent, by their options, valid while the database's change token is `#pagesToken`. */
  readonly #pages = new Map<string, string>();
  #pagesToken: string | undefined;
  /** Runs kept per workflow; 0 keeps all. */
  readonly #maxRecordsPerWorkflow: number;

  constructor(db: Client, options: { maxRecordsPerWorkflow: number }) {
    this.#db = db;
    this.#maxRecordsPerWorkflow = options.maxRecordsPerWorkflow;
  }

  /**
   * Writes one finished step of a run `owner` holds (and nothing once the
   * lease is lost), with `alongside` (statements guarded the same way: what
   * the step tells of its tests) in the same transaction.
   */
  async recordStep(
    runId: string,
    index: number,
    step: StepResult,
    owner: string,
    alongside: readonly InStatement[] = [],
  ): Promise<void> {
    const row = stepStatement(runId, index, step, owner);
    if (alongside.length === 0) await this.#db.execute(row);
    else await this.#db.batch([row, ...alongside], 'write');
  }

  /** Deletes the workflow's ended runs beyond `history_max_records`, for the run's final transaction. */
  retention(workflow: string): InStatement[] {
    return this.#maxRecordsPerWorkflow > 0
      ? retentionStatements(workflow, this.#maxRecordsPerWorkflow)
      : [];
  }

  /**
   * Newest first (`limit` 10 by default), in one query whatever the page
   * size: the page is cut by walking an index backwards, and each of its runs
   * comes as the JSON the API answers, steps and test counts included, built
   * by SQLite through the steps' and test steps' primary keys. The HTTP
   * routes send this text as it is: no object per row or step is made.
   */
  async listRunsJson(options: ListRunsOptions): Promise<string> {
    // Dashboards poll the same pages: on a file, a page is read again only once something was
    // written, by this process or another (the token is read just before the page, with no
    // await between them, so a page never outlives the state it was read in).
    const token = hasChangeTokens(this.#db) ? this.#db.changeToken() : undefined;
    if (token === undefined) return this.#readPage(options);
    if (token !== this.#pagesToken) {
      this.#pages.clear();
      this.#pagesToken = token;
    }
    const key = JSON.stringify([options.workflow, options.status, options.limit, options.offset]);
    const kept = this.#pages.get(key);
    if (kept !== undefined) return kept;
    const page = await this.#readPage(options);
    // Another call may have seen a newer token while this one awaited: then this page is not kept.
    if (this.#pagesToken === token && this.#pages.size < MAX_KEPT_PAGES) this.#pages.set(key, page);
    return page;
  }

  async #readPage(options: ListRunsOptions): Promise<string> {
    const result = await this.#db.execute(listRunsStatement(options));
    return `[${result.rows.map((row) => String(row.record)).join(',')}]`;
  }

  /** `listRunsJson`, parsed (the CLI and the tests). */
  async listRuns(options: ListRunsOptions): Promise<HistoryRecord[]> {
    return JSON.parse(await this.listRunsJson(options)) as HistoryRecord[];
  }

  async getRun(runId: string): Promise<HistoryRecordDetail | null> {
    const result = await this.#db.execute({
      sql: `SELECT ${RUN_COLUMNS}, ${TEST_COUNTS}, ${STEP_COLUMNS}, s.attempt_details, s.data
            FROM runs AS r LEFT JOIN run_steps AS s ON s.run_id = r.run_id
            WHERE r.run_id = ? ORDER BY s.step_index`,
      args: [runId],
    });
    const first = result.rows[0];
    if (!first) return null;
    const steps = result.rows
      .filter((row) => row.step_index !== null)
      .map((row) => {
        const attempt_details = JSON.parse(String(row.attempt_details)) as StepAttempt[];
        const data = JSON.parse(String(row.data)) as Record<string, unknown>;
        return { ...toStep(row), attempt_details, data };
      });
    const tests = first.tests === null ? null : (JSON.parse(String(first.tests)) as TestCounts);
    return { ...toRecord(first), step_count: steps.length, tests, steps };
  }

  /** A run's status alone: what waiting for a run polls. */
  async statusOf(runId: string): Promise<RunStatus | null> {
    const result = await this.#db.execute({
      sql: 'SELECT status FROM runs WHERE run_id = ?',
      args: [runId],
    });
    const status = result.rows[0]?.status;
    return status === undefined ? null : (status as RunStatus);
  }

  /** The recorded steps of a run, by index, with their data: what a rerun reuses. */
  async stepsOf(runId: string): Promise<Map<number, StepResult>> {
    const result = await this.#db.execute({
      sql: `SELECT ${STEP_COLUMNS}, s.attempt_details, s.data FROM run_steps AS s WHERE s.run_id = ?`,
      args: [runId],
    });
    return new Map(
      result.rows.map((row) => {
        const step = toStep(row);
        return [
          Number(row.step_index),
          {
            step_type: step.step_type,
            service: step.service,
            success: step.success,
            skipped: step.skipped,
            data: JSON.parse(String(row.data)) as Record<string, unknown>,
            error: step.error,
            duration_ms: step.duration_ms,
            attempts: JSON.parse(String(row.attempt_details)) as StepAttempt[],
          },
        ];
      }),
    );
  }
}

/** The one statement behind `listRuns`, exported so that tests can read its query plan. */
export function listRunsStatement({
  workflow,
  status,
  limit = 10,
  offset = 0,
}: ListRunsOptions): InStatement {
  const filters = [
    ...(workflow === undefined ? [] : ['r.workflow_name = :workflow']),
    ...(status === undefined ? [] : ['r.status = :status']),
  ];
  return {
    sql: `SELECT ${RUN_RECORD_JSON} AS record
          FROM runs AS r ${filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : ''}
          ORDER BY r.seq DESC LIMIT :limit OFFSET :offset`,
    args: {
      limit,
      offset,
      ...(workflow === undefined ? {} : { workflow }),
      ...(status === undefined ? {} : { status }),
    },
  };
}

/**
 * Deletes a workflow's ended runs beyond the newest `keep`, steps and test
 * results first (what their submit_bugs steps submitted stays: dedupe
 * remembers it for `dedupe_days`, whatever the history keeps).
 * Runs queued or going neither count nor go, so a run that finishes while a
 * newer one is running is kept. Exported so that tests can read the query plans.
 */
export function retentionStatements(workflow: string, keep: number): InStatement[] {
  const ended = `workflow_name = :w AND status NOT IN ('queued', 'running')`;
  const doomed = `${ended} AND seq <= (
    SELECT seq FROM runs WHERE ${ended} ORDER BY seq DESC LIMIT 1 OFFSET :keep)`;
  const args = { w: workflow, keep };
  return [
    ...['run_steps', 'test_steps', 'test_results'].map((table) => ({
      sql: `DELETE FROM ${table} WHERE run_id IN (SELECT run_id FROM runs WHERE ${doomed})`,
      args,
    })),
    { sql: `DELETE FROM runs WHERE ${doomed}`, args },
  ];
}

/**
 * A step's row, written only while `owner` holds the run's lease; writing it
 * again (a retry of a write that did land) changes nothing.
 */
export function stepStatement(
  runId: string,
  index: number,
  step: StepResult,
  owner: string,
): InStatement {
  return {
    sql: `INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, reused, duration_ms, error,
            attempts, attempt_details, data)
          SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
          WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ? AND status = 'running' AND lease_owner = ?)
          ON CONFLICT (run_id, step_index) DO NOTHING`,
    args: [
      runId,
      index,
      step.step_type,
      step.service,
      step.success ? 1 : 0,
      step.skipped ? 1 : 0,
      step.reused ? 1 : 0,
      step.duration_ms,
      step.error,
      step.attempts.length,
      JSON.stringify(step.attempts),
      JSON.stringify(step.data),
      runId,
      owner,
    ],
  };
}

function nullable(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function toRecord(row: Row): HistoryRecord {
  return {
    run_id: String(row.run_id),
    workflow_name: String(row.workflow_name),
    status: row.status as RunStatus,
    success: row.success === null ? null : Number(row.success) === 1,
    queued_at: String(row.queued_at),
    started_at: nullable(row.started_at),
    completed_at: nullable(row.completed_at),
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    trigger: String(row.trigger) as RunTrigger,
    triggered_by: nullable(row.triggered_by),
    parent_run_id: nullable(row.parent_run_id),
    reason: nullable(row.reason),
    trace_id: nullable(row.trace_id),
    step_count: 0,
    tests: null,
    steps: [],
  };
}

function toStep(row: Row): HistoryStep {
  return {
    step_type: row.step_type as StepType,
    service: String(row.service),
    success: Number(row.step_success) === 1,
    skipped: Number(row.skipped) === 1,
    reused: Number(row.reused) === 1,
    duration_ms: Number(row.step_duration_ms),
    error: row.error === null ? null : String(row.error),
    attempts: Number(row.attempts),
  };
}
