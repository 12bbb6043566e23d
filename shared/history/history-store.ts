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
  limit: number;
  offset?: number;
}

const RUN_COLUMNS =
  'r.seq, r.run_id, r.workflow_name, r.status, r.success, r.started_at, r.completed_at, r.duration_ms';
const STEP_COLUMNS =
  's.step_index, s.step_type, s.service, s.success AS step_success, s.skipped, s.duration_ms AS step_duration_ms, s.error, s.attempts';

/**
 * The run history (SPEC §4). A run is written as `running` when it starts,
 * each step as it finishes, and the completion in one transaction with the
 * steps not yet written, so a completed run always has all its steps.
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

  /** Completes the run with the steps not yet written (`pendingSteps`), and applies retention, in one transaction. */
  async completeRun(
    result: RunResult,
    pendingSteps: readonly { index: number; step: StepResult }[],
  ): Promise<void> {
    const statements: InStatement[] = pendingSteps.map(({ index, step }) =>
      insertStep(result.run_id, index, step),
    );
    statements.push({
      sql: `UPDATE runs SET status = 'completed', success = ?, completed_at = ?, duration_ms = ? WHERE run_id = ?`,
      args: [result.success ? 1 : 0, result.completed_at, result.duration_ms, result.run_id],
    });
    statements.push(...this.#retention(result.workflow_name));
    await this.#db.batch(statements, 'write');
  }

  /** Deletes a workflow's runs beyond the newest N (steps included); runs still going are left alone. */
  #retention(workflow: string): InStatement[] {
    if (this.#maxRecordsPerWorkflow <= 0) return [];
    const doomed = `SELECT run_id FROM runs WHERE workflow_name = :w AND status != 'running'
      AND seq <= (SELECT seq FROM runs WHERE workflow_name = :w ORDER BY seq DESC LIMIT 1 OFFSET :keep)`;
    const args = { w: workflow, keep: this.#maxRecordsPerWorkflow };
    return [
      { sql: `DELETE FROM run_steps WHERE run_id IN (${doomed})`, args },
      { sql: `DELETE FROM runs WHERE run_id IN (${doomed})`, args },
    ];
  }

  /** Newest first, one query for the whole page (no query per run). */
  async listRuns({ workflow, limit, offset = 0 }: ListRunsOptions): Promise<HistoryRecord[]> {
    const where = workflow === undefined ? '' : 'WHERE workflow_name = :workflow';
    const result = await this.#db.execute({
      sql: `SELECT ${RUN_COLUMNS}, ${STEP_COLUMNS}
            FROM (SELECT * FROM runs ${where} ORDER BY seq DESC LIMIT :limit OFFSET :offset) AS r
            LEFT JOIN run_steps AS s ON s.run_id = r.run_id
            ORDER BY r.seq DESC, s.step_index`,
      args: workflow === undefined ? { limit, offset } : { workflow, limit, offset },
    });
    const records: HistoryRecord[] = [];
    for (const row of result.rows) {
      const last = records[records.length - 1];
      const current: HistoryRecord =
        last !== undefined && last.run_id === row.run_id ? last : toRecord(row);
      if (current !== last) records.push(current);
      if (row.step_index !== null) current.steps.push(toStep(row));
    }
    for (const record of records) record.step_count = record.steps.length;
    return records;
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

function insertStep(runId: string, index: number, step: StepResult): InStatement {
  return {
    sql: `INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, duration_ms, error, attempts, attempt_details, data)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
