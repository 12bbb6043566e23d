import { randomUUID } from 'node:crypto';
import type { Client, InStatement, InValue, Row } from '@libsql/client';
import type { OnInterrupt, WorkflowConfig } from '../config/schema.ts';
import { statement } from '../db/statement.ts';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ENDED_STATUSES: readonly RunStatus[] = ['completed', 'cancelled', 'interrupted'];

/** Who started a run (SPEC §11): `trigger:<name>` for a signed inbound trigger. */
export type RunTrigger = 'api' | 'cli' | 'schedule' | 'rerun' | 'lambda' | `trigger:${string}`;
export type RerunFrom = 'failed' | 'start';

/** An interrupted run that asked to be requeued gets a rerun, but a chain of them stops here. */
export const MAX_REQUEUE_DEPTH = 3;
/** SPEC §11: an Idempotency-Key answers the run it started for 24 h. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface EnqueueRequest {
  workflow: string;
  /** Its settings decide the concurrency rule, the queue timeout and what an interruption does. */
  settings: Pick<WorkflowConfig, 'concurrency' | 'queue_timeout' | 'on_interrupt'>;
  trigger: RunTrigger;
  triggeredBy?: string | null;
  parentRunId?: string | null;
  rerunFrom?: RerunFrom | null;
  idempotencyKey?: string | undefined;
  /** The W3C trace the run belongs to (a caller's `traceparent`, or a new one). */
  traceId?: string | null;
  parentSpanId?: string | null;
  /** At most one run per key (a schedule tick, an inbound delivery id): claimed in the same transaction. */
  dedupe?: DedupeKey | undefined;
  now?: number;
}

/**
 * A row that lets one run exist per key: written (`ON CONFLICT DO NOTHING`)
 * in the batch that queues the run, which is recorded only when this enqueue
 * holds the row; when another did, its run is the answer (`existing`). A run
 * the concurrency rule refuses gives the key back, as an Idempotency-Key.
 */
export interface DedupeKey {
  /** A table with the key's columns as its primary key and a `run_id` column (a name from the code, never input). */
  table: 'schedule_ticks' | 'trigger_deliveries';
  key: Readonly<Record<string, InValue>>;
  /** The row's other columns. */
  columns?: Readonly<Record<string, InValue>>;
  /** Run first, in the same batch (pruning the table's old rows). */
  before?: readonly InStatement[];
}

export type EnqueueOutcome =
  | {
      kind: 'queued';
      runId: string;
      /** Runs `cancel_running` cancelled at once (they were still queued). */
      supersededQueued: { runId: string; workflow: string }[];
      /** Running runs `cancel_running` asked to stop. */
      supersededRunning: string[];
    }
  /** The Idempotency-Key was seen before, for this workflow: its run. */
  | { kind: 'existing'; runId: string }
  | { kind: 'conflict'; message: string };

/** A run this process has claimed: it alone executes it while it holds the lease. */
export interface ClaimedRun {
  runId: string;
  workflow: string;
  trigger: RunTrigger;
  triggeredBy: string | null;
  parentRunId: string | null;
  rerunFrom: RerunFrom | null;
  traceId: string | null;
  parentSpanId: string | null;
  queuedAt: string;
  startedAt: string;
  onInterrupt: OnInterrupt;
  requeueDepth: number;
}

export type CancelOutcome =
  /** It was queued: now cancelled, nothing ran. */
  | { kind: 'cancelled'; workflow: string }
  /** It is running: its executor stops it within a second, wherever it runs. */
  | { kind: 'requested' }
  | { kind: 'ended'; status: RunStatus }
  | { kind: 'missing' };

export interface ReconcileOutcome {
  /** Runs whose worker was lost, now `interrupted`. */
  interrupted: { runId: string; workflow: string }[];
  /** Reruns queued for interrupted runs of `on_interrupt: requeue` workflows. */
  requeued: string[];
  /** Runs cancelled for waiting queued past their `queue_timeout`. */
  timedOut: { runId: string; workflow: string }[];
}

const ACTIVE = `status IN ('queued', 'running') AND cancel_requested IS NULL`;

const CLAIMED_COLUMNS = `run_id, workflow_name, trigger, triggered_by, parent_run_id, rerun_from, trace_id,
  parent_span_id, queued_at, started_at, on_interrupt, requeue_depth`;

/**
 * The run queue (SPEC §11, §16): every state change of a run is one atomic
 * statement or batch over the shared database, so several hosts, CLI
 * processes and Lambda functions agree on it without a broker — a queued run
 * is claimed by exactly one of them, a lease that stops being renewed is
 * reclaimed by any of them, a cancel request reaches the executor wherever it
 * runs.
 */
export class RunQueue {
  readonly #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /**
   * Records a run `queued`, applying in one transaction the Idempotency-Key
   * (the same key answers its first run; for another workflow, a conflict)
   * and the workflow's concurrency rule (`reject` records nothing;
   * `cancel_running` cancels the oldest active runs beyond the limit).
   */
  async enqueue(request: EnqueueRequest): Promise<EnqueueOutcome> {
    const now = request.now ?? Date.now();
    const runId = randomUUID();
    const { concurrency, queue_timeout, on_interrupt } = request.settings;
    const key = request.idempotencyKey;
    const args = {
      id: runId,
      wf: request.workflow,
      now,
      nowIso: new Date(now).toISOString(),
      key: key ?? null,
      expired: now - IDEMPOTENCY_WINDOW_MS,
      limit: concurrency?.limit ?? null,
      supersede: `superseded by ${runId}`,
    };
    const guards = ['1'];
    if (key !== undefined)
      guards.push('(SELECT run_id FROM idempotency_keys WHERE idem_key = :key) = :id');
    if (concurrency?.on_conflict === 'reject')
      guards.push(`(SELECT count(*) FROM runs WHERE workflow_name = :wf AND ${ACTIVE}) < :limit`);
    const statements: InStatement[] = [];
    const dedupe = request.dedupe && dedupeStatements(request.dedupe, runId);
    if (dedupe) {
      statements.push(...dedupe.claim);
      guards.push(dedupe.held);
    }
    if (key !== undefined) {
      statements.push(
        statement(
          `DELETE FROM idempotency_keys WHERE idem_key = :key
                AND (created_at <= :expired OR NOT EXISTS (SELECT 1 FROM runs WHERE runs.run_id = idempotency_keys.run_id))`,
          args,
        ),
        statement(
          `INSERT INTO idempotency_keys (idem_key, workflow_name, run_id, created_at)
                VALUES (:key, :wf, :id, :now) ON CONFLICT (idem_key) DO NOTHING`,
          args,
        ),
      );
    }
    statements.push(
      statement(
        `INSERT INTO runs (run_id, workflow_name, status, queued_at, trigger, triggered_by, parent_run_id, rerun_from,
              trace_id, parent_span_id, concurrency_limit, queue_deadline, on_interrupt)
            SELECT :id, :wf, 'queued', :nowIso, :trigger, :by, :parent, :from, :trace, :span, :limit, :deadline, :onInterrupt
            WHERE ${guards.join(' AND ')}`,
        {
          ...args,
          trigger: request.trigger,
          by: request.triggeredBy ?? null,
          parent: request.parentRunId ?? null,
          from: request.rerunFrom ?? null,
          trace: request.traceId ?? null,
          span: request.parentSpanId ?? null,
          deadline: queue_timeout === undefined ? null : now + Math.round(queue_timeout * 1000),
          onInterrupt: on_interrupt,
          ...dedupe?.args,
        },
      ),
    );
    if (key !== undefined)
      // A run the concurrency rule refused leaves no key behind: the next try may start one.
      statements.push(
        statement(
          'DELETE FROM idempotency_keys WHERE idem_key = :key AND run_id = :id AND changes() = 0',
          args,
        ),
      );
    if (dedupe) statements.push(dedupe.release);
    const supersedeAt = statements.length;
    if (concurrency?.on_conflict === 'cancel_running')
      statements.push(
        statement(
          `UPDATE runs SET
                status = CASE status WHEN 'queued' THEN 'cancelled' ELSE status END,
                reason = CASE status WHEN 'queued' THEN :supersede ELSE reason END,
                completed_at = CASE status WHEN 'queued' THEN :nowIso ELSE completed_at END,
                cancel_requested = CASE status WHEN 'running' THEN :supersede ELSE cancel_requested END
              WHERE run_id IN (
                SELECT run_id FROM runs WHERE workflow_name = :wf AND ${ACTIVE} AND run_id != :id
                ORDER BY CASE status WHEN 'running' THEN 0 ELSE 1 END, seq
                LIMIT max(0, (SELECT count(*) FROM runs WHERE workflow_name = :wf AND ${ACTIVE}) - :limit))
              AND EXISTS (SELECT 1 FROM runs WHERE run_id = :id)
              RETURNING run_id, status`,
          args,
        ),
      );
    const insertedAt = statements.length;
    statements.push(statement('SELECT run_id FROM runs WHERE run_id = :id', args));
    statements.push(
      statement('SELECT run_id, workflow_name FROM idempotency_keys WHERE idem_key = :key', args),
    );
    if (dedupe) statements.push(dedupe.holder);
    const results = await this.#db.batch(statements, 'write');
    if ((results[insertedAt]?.rows.length ?? 0) > 0) {
      const superseded =
        concurrency?.on_conflict === 'cancel_running' ? (results[supersedeAt]?.rows ?? []) : [];
      return {
        kind: 'queued',
        runId,
        supersededQueued: superseded
          .filter((row) => row.status === 'cancelled')
          .map((row) => ({ runId: String(row.run_id), workflow: request.workflow })),
        supersededRunning: superseded
          .filter((row) => row.status === 'running')
          .map((row) => String(row.run_id)),
      };
    }
    const holder = results[insertedAt + 1]?.rows[0];
    if (key !== undefined && holder && String(holder.run_id) !== runId) {
      if (String(holder.workflow_name) !== request.workflow)
        return {
          kind: 'conflict',
          message: `Idempotency-Key "${key}" was used for workflow "${String(holder.workflow_name)}" within 24 h; use a new key for "${request.workflow}"`,
        };
      return { kind: 'existing', runId: String(holder.run_id) };
    }
    const claimed = dedupe && results[insertedAt + 2]?.rows[0];
    if (claimed && String(claimed.run_id) !== runId)
      return { kind: 'existing', runId: String(claimed.run_id) };
    return {
      kind: 'conflict',
      message: `workflow "${request.workflow}" already has ${concurrency?.limit ?? 0} active run(s), its concurrency limit (on_conflict: reject)`,
    };
  }

  /** Whether any run waits (a read, so an idle poll never takes the write lock). */
  async hasQueued(workflows: readonly string[]): Promise<boolean> {
    const result = await this.#db.execute({
      sql: `SELECT 1 FROM runs WHERE status = 'queued' AND workflow_name IN (SELECT value FROM json_each(?)) LIMIT 1`,
      args: [JSON.stringify(workflows)],
    });
    return result.rows.length > 0;
  }

  /**
   * Claims the oldest queued run this process can execute (one of
   * `workflows`, within its concurrency limit), or the one given, for
   * `leaseMs`: one statement, so two processes never claim the same run.
   */
  async claim(options: {
    owner: string;
    leaseMs: number;
    workflows: readonly string[];
    runId?: string | undefined;
    now?: number;
  }): Promise<ClaimedRun | null> {
    const now = options.now ?? Date.now();
    const result = await this.#db.execute({
      sql: `UPDATE runs SET status = 'running', started_at = :nowIso, lease_owner = :owner, lease_until = :until
            WHERE run_id = (
              SELECT q.run_id FROM runs AS q
              WHERE q.status = 'queued' AND q.workflow_name IN (SELECT value FROM json_each(:workflows))
                ${options.runId === undefined ? '' : 'AND q.run_id = :runId'}
                AND (q.concurrency_limit IS NULL OR q.concurrency_limit > (
                  SELECT count(*) FROM runs AS r WHERE r.workflow_name = q.workflow_name AND r.status = 'running'))
              ORDER BY q.seq LIMIT 1)
            AND status = 'queued'
            RETURNING ${CLAIMED_COLUMNS}`,
      args: {
        nowIso: new Date(now).toISOString(),
        owner: options.owner,
        until: now + options.leaseMs,
        workflows: JSON.stringify(options.workflows),
        ...(options.runId === undefined ? {} : { runId: options.runId }),
      },
    });
    const row = result.rows[0];
    return row ? toClaimed(row) : null;
  }

  /**
   * Extends the leases of every run `owner` executes; answers the runs it
   * still holds (a run missing here was reclaimed: its executor must stop)
   * and the cancel requests among them.
   */
  async renew(options: { owner: string; leaseMs: number; now?: number }): Promise<{
    held: Set<string>;
    cancelRequests: Map<string, string>;
  }> {
    const now = options.now ?? Date.now();
    const result = await this.#db.execute(
      statement(
        `UPDATE runs SET lease_until = :until WHERE status = 'running' AND lease_owner = :owner
            RETURNING run_id, cancel_requested`,
        { until: now + options.leaseMs, owner: options.owner },
      ),
    );
    return leaseState(result.rows);
  }

  /** The cancel requests for runs `owner` executes (a read: polled often, unlike the renewal). */
  async cancelRequests(owner: string): Promise<Map<string, string>> {
    const result = await this.#db.execute({
      sql: `SELECT run_id, cancel_requested FROM runs
            WHERE status = 'running' AND lease_owner = ? AND cancel_requested IS NOT NULL`,
      args: [owner],
    });
    return leaseState(result.rows).cancelRequests;
  }

  /** Cancels a queued run at once, or asks a running one to stop (its executor sees it within a second). */
  async requestCancel(runId: string, reason: string, now = Date.now()): Promise<CancelOutcome> {
    const args = { id: runId, reason, nowIso: new Date(now).toISOString() };
    const [cancelled, requested, current] = await this.#db.batch(
      [
        statement(
          `UPDATE runs SET status = 'cancelled', reason = :reason, completed_at = :nowIso
                WHERE run_id = :id AND status = 'queued' RETURNING workflow_name`,
          args,
        ),
        statement(
          `UPDATE runs SET cancel_requested = :reason
                WHERE run_id = :id AND status = 'running' AND cancel_requested IS NULL RETURNING run_id`,
          args,
        ),
        statement('SELECT status FROM runs WHERE run_id = :id', args),
      ],
      'write',
    );
    const cancelledRow = cancelled?.rows[0];
    if (cancelledRow) return { kind: 'cancelled', workflow: String(cancelledRow.workflow_name) };
    if ((requested?.rows.length ?? 0) > 0) return { kind: 'requested' };
    const status = current?.rows[0]?.status;
    if (status === undefined) return { kind: 'missing' };
    if (status === 'running') return { kind: 'requested' }; // asked before: it stands
    return { kind: 'ended', status: status as RunStatus };
  }

  /**
   * What any host does every second or so: runs whose lease expired (their
   * process died) become `interrupted` with reason `worker lost` — keeping
   * their finished steps, and queueing one rerun from the interrupted step
   * for `on_interrupt: requeue` — and runs queued past their `queue_timeout`
   * are cancelled. Reads first, so an idle database sees no write.
   */
  async reconcile(now = Date.now()): Promise<ReconcileOutcome> {
    const outcome: ReconcileOutcome = { interrupted: [], requeued: [], timedOut: [] };
    const expired = await this.#db.execute({
      sql: `SELECT run_id FROM runs WHERE status = 'running' AND (lease_until IS NULL OR lease_until < ?)`,
      args: [now],
    });
    for (const row of expired.rows) {
      const result = await this.interrupt(String(row.run_id), 'worker lost', {
        now,
        onlyIfExpired: true,
      });
      if (result) {
        outcome.interrupted.push({ runId: String(row.run_id), workflow: result.workflow });
        if (result.requeuedRunId) outcome.requeued.push(result.requeuedRunId);
      }
    }
    const due = await this.#db.execute({
      sql: `SELECT 1 FROM runs WHERE status = 'queued' AND queue_deadline <= ? LIMIT 1`,
      args: [now],
    });
    if (due.rows.length > 0) {
      const timedOut = await this.#db.execute(
        statement(
          `UPDATE runs SET status = 'cancelled', reason = 'queue timeout', completed_at = :nowIso
              WHERE status = 'queued' AND queue_deadline <= :now RETURNING run_id, workflow_name`,
          { now, nowIso: new Date(now).toISOString() },
        ),
      );
      outcome.timedOut = timedOut.rows.map((r) => ({
        runId: String(r.run_id),
        workflow: String(r.workflow_name),
      }));
    }
    return outcome;
  }

  /**
   * Marks a running run `interrupted` with its finished steps kept, queueing
   * its rerun in the same transaction when its workflow asked for one; null
   * when it was not running (or, with `onlyIfExpired`, its lease is alive).
   */
  async interrupt(
    runId: string,
    reason: string,
    { now = Date.now(), onlyIfExpired = false }: { now?: number; onlyIfExpired?: boolean } = {},
  ): Promise<{ workflow: string; requeuedRunId: string | null } | null> {
    const still = `run_id = :id AND status = 'running'${onlyIfExpired ? ' AND (lease_until IS NULL OR lease_until < :now)' : ''}`;
    const ended = await this.#end({
      runId,
      still,
      set: `status = 'interrupted', reason = :reason, completed_at = :nowIso`,
      args: { reason },
      requeue: true,
      now,
    });
    return ended;
  }

  /**
   * Ends a run this process executes, in one transaction with the steps not
   * yet written (`before`) and anything to apply after (`after`: retention):
   * `completed`, `cancelled`, or `interrupted` (then requeued when its
   * workflow asks). False when the lease was lost meanwhile (another process
   * reconciled the run): nothing is written then.
   */
  async finish(
    request: FinishRequest,
  ): Promise<{ recorded: boolean; requeuedRunId: string | null }> {
    const ended = await this.#end({
      runId: request.runId,
      still: `run_id = :id AND status = 'running' AND lease_owner = :owner`,
      set: `status = :status, success = :success, completed_at = :completedAt, duration_ms = :duration, reason = :reason`,
      args: {
        owner: request.owner,
        status: request.status,
        success: request.success === null ? null : request.success ? 1 : 0,
        completedAt: request.completedAt,
        duration: request.durationMs,
        reason: request.reason,
      },
      requeue: request.status === 'interrupted',
      before: request.before,
      after: request.after,
      now: request.now ?? Date.now(),
    });
    return { recorded: ended !== null, requeuedRunId: ended?.requeuedRunId ?? null };
  }

  async #end(options: {
    runId: string;
    /** Which row may be ended: the run, still running (and still held, or expired). */
    still: string;
    set: string;
    args: Record<string, string | number | null>;
    requeue: boolean;
    before?: readonly InStatement[] | undefined;
    after?: readonly InStatement[] | undefined;
    now: number;
  }): Promise<{ workflow: string; requeuedRunId: string | null } | null> {
    const rerunId = randomUUID();
    const args = {
      ...options.args,
      id: options.runId,
      now: options.now,
      nowIso: new Date(options.now).toISOString(),
      rerun: rerunId,
      depth: MAX_REQUEUE_DEPTH,
    };
    const statements: InStatement[] = [...(options.before ?? [])];
    const requeueAt = statements.length;
    if (options.requeue)
      statements.push(
        statement(
          `INSERT INTO runs (run_id, workflow_name, status, queued_at, trigger, parent_run_id, rerun_from, trace_id,
                concurrency_limit, on_interrupt, requeue_depth)
              SELECT :rerun, workflow_name, 'queued', :nowIso, 'rerun', run_id, 'failed', trace_id,
                concurrency_limit, on_interrupt, requeue_depth + 1
              FROM runs WHERE ${options.still} AND on_interrupt = 'requeue' AND requeue_depth < :depth
              RETURNING run_id`,
          args,
        ),
      );
    const markAt = statements.length;
    statements.push(
      statement(
        `UPDATE runs SET ${options.set}, lease_owner = NULL, lease_until = NULL
            WHERE ${options.still} RETURNING workflow_name`,
        args,
      ),
    );
    statements.push(...(options.after ?? []));
    const results = await this.#db.batch(statements, 'write');
    const row = results[markAt]?.rows[0];
    if (!row) return null;
    const requeued = options.requeue && (results[requeueAt]?.rows.length ?? 0) > 0;
    return { workflow: String(row.workflow_name), requeuedRunId: requeued ? rerunId : null };
  }
}

export interface FinishRequest {
  runId: string;
  owner: string;
  status: 'completed' | 'cancelled' | 'interrupted';
  success: boolean | null;
  completedAt: string;
  durationMs: number;
  reason: string | null;
  /** The steps not yet written, guarded so that they are written only while the lease is held. */
  before?: readonly InStatement[];
  /** Applied in the same transaction once the run has ended (retention). */
  after?: readonly InStatement[];
  now?: number;
}

/** The statements of a `DedupeKey`: its claim (first), the run insert's guard, its release, its holder. */
function dedupeStatements(dedupe: DedupeKey, runId: string) {
  const { table, key, columns = {} } = dedupe;
  const args: Record<string, InValue> = { dedupe_run: runId };
  for (const [column, value] of Object.entries({ ...key, ...columns }))
    args[`dedupe_${column}`] = value;
  const names = [...Object.keys(key), ...Object.keys(columns)];
  const where = Object.keys(key)
    .map((column) => `${column} = :dedupe_${column}`)
    .join(' AND ');
  return {
    args,
    claim: [
      ...(dedupe.before ?? []),
      statement(
        `INSERT INTO ${table} (${names.join(', ')}, run_id)
            VALUES (${names.map((column) => `:dedupe_${column}`).join(', ')}, :dedupe_run)
            ON CONFLICT DO NOTHING`,
        args,
      ),
    ],
    held: `(SELECT run_id FROM ${table} WHERE ${where}) = :dedupe_run`,
    release: statement(
      `DELETE FROM ${table} WHERE ${where} AND run_id = :dedupe_run
          AND NOT EXISTS (SELECT 1 FROM runs WHERE run_id = :dedupe_run)`,
      args,
    ),
    holder: statement(`SELECT run_id FROM ${table} WHERE ${where}`, args),
  };
}

function leaseState(rows: readonly Row[]): {
  held: Set<string>;
  cancelRequests: Map<string, string>;
} {
  const held = new Set<string>();
  const cancelRequests = new Map<string, string>();
  for (const row of rows) {
    held.add(String(row.run_id));
    if (row.cancel_requested !== null)
      cancelRequests.set(String(row.run_id), String(row.cancel_requested));
  }
  return { held, cancelRequests };
}

function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function toClaimed(row: Row): ClaimedRun {
  return {
    runId: String(row.run_id),
    workflow: String(row.workflow_name),
    trigger: String(row.trigger) as RunTrigger,
    triggeredBy: nullableString(row.triggered_by),
    parentRunId: nullableString(row.parent_run_id),
    rerunFrom: nullableString(row.rerun_from) as RerunFrom | null,
    traceId: nullableString(row.trace_id),
    parentSpanId: nullableString(row.parent_span_id),
    queuedAt: String(row.queued_at),
    startedAt: String(row.started_at),
    onInterrupt: String(row.on_interrupt) as OnInterrupt,
    requeueDepth: Number(row.requeue_depth),
  };
}
