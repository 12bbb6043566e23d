import type { Client, InStatement, Row } from '@libsql/client';
import type { StepType } from '../config/schema.ts';
import type { RunResult, RunStart, StepAttempt, StepResult } from '../workflow/types.ts';

export const RUN_STATUSES = ['running', 'completed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A history record (SPEC §6): `attempts` is a count here, `step_count` the steps recorded so far. */
export interface HistoryRecord {
  run_id: string;
  workflow_name: string;
  status: RunStatus;
  success: boolean | null;
  started_at: string;
  completed_at: string | null;
  duration_ms: number | null;
  step_count: number;
  steps: HistoryStep[];
}

export interface HistoryStep {
  step_type: StepType;
  service: string;
  success: boolean;
  skipped: boolean;
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
  /** 10 when omitted (SPEC §4). */
  limit?: number;
  offset?: number;
}

const RUN_COLUMNS =
  'r.seq, r.run_id, r.workflow_name, r.status, r.success, r.started_at, r.completed_at, r.duration_ms';
const STEP_COLUMNS =
  's.step_index, s.step_type, s.service, s.success AS step_success, s.skipped, s.duration_ms AS step_duration_ms, s.error, s.attempts';

/**
 * The run history (SPEC §4). A run is written as `running` when it starts,
 * each step as it finishes, and the completion in one transaction with the
 * steps not yet written, so a completed run always has all its steps; a run
 * whose process died stays `running` with the steps that finished until
 * `markInterrupted`.
 */
export class HistoryStore {
  readonly #db: Client;
  /** Runs kept per workflow; 0 keeps all. */
  readonly #maxRecordsPerWorkflow: number;

  constructor(db: Client, options: { maxRecordsPerWorkflow: number }) {
    this.#db = db;
    this.#maxRecordsPerWorkflow = options.maxRecordsPerWorkflow;
  }

  async startRun(start: RunStart): Promise<void> {
    await this.#db.execute({
      sql: `INSERT INTO runs (run_id, workflow_name, status, success, started_at) VALUES (?, ?, 'running', NULL, ?)`,
      args: [start.run_id, start.workflow_name, start.started_at],
    });
  }

  async recordStep(runId: string, index: number, step: StepResult): Promise<void> {
    await this.#db.execute(insertStep(runId, index, step));
  }

  /**
   * Completes the run, writes its steps not yet written and applies
   * retention, in one transaction. `pendingSteps` defaults to every step; a
   * step already written is left as it is. The run row is created if its
   * start was never written, and a run another process marked `interrupted`
   * while it was still going becomes `completed`.
   */
  async completeRun(
    result: RunResult,
    pendingSteps: readonly { index: number; step: StepResult }[] = result.steps.map(
      (step, index) => ({ index, step }),
    ),
  ): Promise<void> {
    await this.#db.batch(
      [
        {
          sql: `INSERT INTO runs (run_id, workflow_name, status, success, started_at, completed_at, duration_ms)
                VALUES (:run_id, :workflow_name, 'completed', :success, :started_at, :completed_at, :duration_ms)
                ON CONFLICT (run_id) DO UPDATE SET status = 'completed', success = excluded.success,
                  completed_at = excluded.completed_at, duration_ms = excluded.duration_ms`,
          args: {
            run_id: result.run_id,
            workflow_name: result.workflow_name,
            success: result.success ? 1 : 0,
            started_at: result.started_at,
            completed_at: result.completed_at,
            duration_ms: result.duration_ms,
          },
        },
        ...pendingSteps.map(({ index, step }) => insertStep(result.run_id, index, step)),
        ...(this.#maxRecordsPerWorkflow > 0
          ? retentionStatements(result.workflow_name, this.#maxRecordsPerWorkflow)
          : []),
      ],
      'write',
    );
  }

  /**
   * Newest first (`limit` 10 by default), in one query whatever the page
   * size: the page is cut by walking an index backwards, and each of its runs
   * carries its steps as one JSON array, read through the steps' primary key.
   */
  async listRuns(options: ListRunsOptions): Promise<HistoryRecord[]> {
    const result = await this.#db.execute(listRunsStatement(options));
    return result.rows.map((row) => {
      const steps = (JSON.parse(String(row.steps)) as StepTuple[])
        .sort((a, b) => a[0] - b[0])
        .map(
          ([
            ,
            step_type,
            service,
            success,
            skipped,
            duration_ms,
            error,
            attempts,
          ]): HistoryStep => ({
            step_type,
            service,
            success: success === 1,
            skipped: skipped === 1,
            duration_ms,
            error,
            attempts,
          }),
        );
      return { ...toRecord(row), step_count: steps.length, steps };
    });
  }

  async getRun(runId: string): Promise<HistoryRecordDetail | null> {
    const result = await this.#db.execute({
      sql: `SELECT ${RUN_COLUMNS}, ${STEP_COLUMNS}, s.attempt_details, s.data
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
    return { ...toRecord(first), step_count: steps.length, steps };
  }

  /** Marks runs left `running` by a process that died as `interrupted`; their finished steps stay. */
  async markInterrupted(): Promise<number> {
    const result = await this.#db.execute(
      `UPDATE runs SET status = 'interrupted' WHERE status = 'running'`,
    );
    return result.rowsAffected;
  }
}

/** A step as `listRuns` reads it: `[step_index, step_type, service, success, skipped, duration_ms, error, attempts]`. */
type StepTuple = [number, StepType, string, number, number, number, string | null, number];

/** The one statement behind `listRuns`, exported so that tests can read its query plan. */
export function listRunsStatement({
  workflow,
  limit = 10,
  offset = 0,
}: ListRunsOptions): InStatement {
  return {
    sql: `SELECT ${RUN_COLUMNS}, (
            SELECT json_group_array(json_array(s.step_index, s.step_type, s.service, s.success, s.skipped,
              s.duration_ms, s.error, s.attempts))
            FROM run_steps AS s WHERE s.run_id = r.run_id) AS steps
          FROM runs AS r ${workflow === undefined ? '' : 'WHERE r.workflow_name = :workflow'}
          ORDER BY r.seq DESC LIMIT :limit OFFSET :offset`,
    args: workflow === undefined ? { limit, offset } : { workflow, limit, offset },
  };
}

/**
 * Deletes a workflow's finished runs beyond the newest `keep`, steps first.
 * Runs still going neither count nor go, so a run that finishes while a newer
 * one is running is kept. Exported so that tests can read the query plans.
 */
export function retentionStatements(workflow: string, keep: number): InStatement[] {
  const doomed = `workflow_name = :w AND status != 'running' AND seq <= (
    SELECT seq FROM runs WHERE workflow_name = :w AND status != 'running' ORDER BY seq DESC LIMIT 1 OFFSET :keep)`;
  const args = { w: workflow, keep };
  return [
    {
      sql: `DELETE FROM run_steps WHERE run_id IN (SELECT run_id FROM runs WHERE ${doomed})`,
      args,
    },
    { sql: `DELETE FROM runs WHERE ${doomed}`, args },
  ];
}

/** A step's row; writing it again (a retry of a write that did land) changes nothing. */
function insertStep(runId: string, index: number, step: StepResult): InStatement {
  return {
    sql: `INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, duration_ms, error, attempts, attempt_details, data)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, step_index) DO NOTHING`,
    args: [
      runId,
      index,
      step.step_type,
      step.service,
      step.success ? 1 : 0,
      step.skipped ? 1 : 0,
      step.duration_ms,
      step.error,
      step.attempts.length,
      JSON.stringify(step.attempts),
      JSON.stringify(step.data),
    ],
  };
}

function toRecord(row: Row): HistoryRecord {
  return {
    run_id: String(row.run_id),
    workflow_name: String(row.workflow_name),
    status: row.status as RunStatus,
    success: row.success === null ? null : Number(row.success) === 1,
    started_at: String(row.started_at),
    completed_at: row.completed_at === null ? null : String(row.completed_at),
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    step_count: 0,
    steps: [],
  };
}

function toStep(row: Row): HistoryStep {
  return {
    step_type: row.step_type as StepType,
    service: String(row.service),
    success: Number(row.step_success) === 1,
    skipped: Number(row.skipped) === 1,
    duration_ms: Number(row.step_duration_ms),
    error: row.error === null ? null : String(row.error),
    attempts: Number(row.attempts),
  };
}
