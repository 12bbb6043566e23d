import { setTimeout as sleep } from 'node:timers/promises';
import { findWorkflow } from '../config/lookup.ts';
import type { AegisConfig } from '../config/schema.ts';
import type { Environment } from '../env.ts';
import { ConflictError, errorMessage, NotFoundError } from '../errors.ts';
import type { HistoryRecordDetail } from '../history/history-store.ts';
import type { Logger } from '../logger.ts';
import type { Signals } from '../signals.ts';
import { type Stores, storeEvent } from '../stores.ts';
import { newTraceId } from '../trace.ts';
import type { RunObserver } from '../workflow/run-workflow.ts';
import type { RunEnding, RunResult } from '../workflow/types.ts';
import { executeClaimedRun } from './execute-run.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import {
  type CancelOutcome,
  type ClaimedRun,
  type DedupeKey,
  ENDED_STATUSES,
  type RerunFrom,
  type RunStatus,
  type RunTrigger,
} from './run-queue.ts';

/** How often a process waiting for a run (or for room to claim it) looks at the database. */
const WAIT_POLL_MAX_MS = 250;
const WAIT_POLL_FIRST_MS = 10;
/** How often a process that waits to claim its own run also reconciles the queue (queue timeouts, lost workers). */
const RECONCILE_WHILE_WAITING_MS = 1_000;

export interface StartOptions {
  trigger: RunTrigger;
  /** The name of the API key that asked, or null. */
  triggeredBy?: string | null;
  idempotencyKey?: string | undefined;
  parentRunId?: string | null;
  rerunFrom?: RerunFrom | null;
  /** The trace to continue (from a caller's `traceparent`); a new one otherwise. */
  trace?: { traceId: string; parentSpanId: string | null } | undefined;
  /** One run per schedule tick or inbound delivery id: another start with the same key answers its run. */
  dedupe?: DedupeKey | undefined;
}

/** A run queued by `start`, or the run an Idempotency-Key already started. */
export interface Started {
  runId: string;
  /** True when an Idempotency-Key (or a dedupe key) answered a run started before. */
  existing: boolean;
}

export interface RunServiceOptions {
  config: AegisConfig;
  env: Environment;
  logger: Logger;
  signals: Signals;
  leases: LeaseKeeper;
  stores: Stores;
  /** Listeners every run of this process gets (the metrics). */
  observers?: () => readonly RunObserver[];
}

/**
 * What the API, the CLI, the host's workers and Lambda do with runs: start
 * (queue) one, execute one, wait for one, cancel or rerun one. Every run goes
 * through the queue, whoever executes it.
 */
export class RunService {
  readonly #options: RunServiceOptions;

  constructor(options: RunServiceOptions) {
    this.#options = options;
  }

  get #stores(): Stores {
    return this.#options.stores;
  }

  /** The workflows this process can execute. */
  get workflows(): string[] {
    return Object.keys(this.#options.config.workflows);
  }

  /** Queues a run (SPEC §11); a concurrency `reject` or a key used for another workflow is a 409. */
  async start(workflowKey: string, options: StartOptions): Promise<Started> {
    const workflow = findWorkflow(this.#options.config, workflowKey);
    const trace = options.trace ?? { traceId: newTraceId(), parentSpanId: null };
    const outcome = await this.#stores.queue.enqueue({
      workflow: workflowKey,
      settings: workflow,
      trigger: options.trigger,
      triggeredBy: options.triggeredBy ?? null,
      parentRunId: options.parentRunId ?? null,
      rerunFrom: options.rerunFrom ?? null,
      idempotencyKey: options.idempotencyKey,
      traceId: trace.traceId,
      parentSpanId: trace.parentSpanId,
      dedupe: options.dedupe,
    });
    if (outcome.kind === 'conflict') throw new ConflictError(outcome.message);
    if (outcome.kind === 'existing') return { runId: outcome.runId, existing: true };
    for (const superseded of outcome.supersededQueued)
      await this.#cancelledEvent(
        superseded.runId,
        superseded.workflow,
        `superseded by ${outcome.runId}`,
      );
    for (const runId of outcome.supersededRunning)
      this.#options.signals.emit('cancelRequested', runId, `superseded by ${outcome.runId}`);
    this.#options.signals.emit('runQueued', outcome.runId);
    return { runId: outcome.runId, existing: false };
  }

  /**
   * Executes a run that was queued, in this process: claims it as soon as
   * its workflow's concurrency allows, then runs it. A run that another
   * process claimed (or that was cancelled meanwhile) is waited for instead.
   */
  async execute(runId: string, observers: readonly RunObserver[] = []): Promise<RunResult> {
    let reconciledAt = Date.now();
    let delay = WAIT_POLL_FIRST_MS;
    for (;;) {
      const claim = await this.#stores.queue.claim({
        owner: this.#options.leases.owner,
        leaseMs: this.#options.leases.leaseMs,
        workflows: this.workflows,
        runId,
      });
      if (claim) return this.executeClaimed(claim, observers);
      const status = await this.#stores.history.statusOf(runId);
      if (status === null) throw new NotFoundError(`no run with id "${runId}"`);
      if (status !== 'queued') return this.result(runId);
      if (Date.now() - reconciledAt >= RECONCILE_WHILE_WAITING_MS) {
        await this.reconcile();
        reconciledAt = Date.now();
      }
      await sleep(delay);
      delay = Math.min(delay * 2, WAIT_POLL_MAX_MS);
    }
  }

  /** Claims and executes the oldest run this process may take; null when none is claimable. */
  async executeNext(observers: readonly RunObserver[] = []): Promise<RunResult | null> {
    const claim = await this.claimNext();
    return claim ? this.executeClaimed(claim, observers) : null;
  }

  /** Claims the oldest run this process may take (by workflow and concurrency); null when none. */
  claimNext(): Promise<ClaimedRun | null> {
    return this.#stores.queue.claim({
      owner: this.#options.leases.owner,
      leaseMs: this.#options.leases.leaseMs,
      workflows: this.workflows,
    });
  }

  /** Whether a run waits that this process could execute (a read: cheap to poll). */
  hasQueued(): Promise<boolean> {
    return this.#stores.queue.hasQueued(this.workflows);
  }

  /** Executes a run this process claimed, to its end. */
  executeClaimed(claim: ClaimedRun, observers: readonly RunObserver[] = []): Promise<RunResult> {
    const { config, env, logger, signals, leases } = this.#options;
    return executeClaimedRun(claim, {
      config,
      env,
      stores: this.#stores,
      logger,
      signals,
      leases,
      observers: [...(this.#options.observers?.() ?? []), ...observers],
    });
  }

  /** The run's result once it has ended, however long that takes (the synchronous API). */
  async result(runId: string): Promise<RunResult> {
    for (;;) {
      const ended = await this.waitForEnd(runId, 60_000);
      if (ended) return ended.result ?? runResultOf(ended.record);
    }
  }

  /**
   * Waits until the run has ended or `timeoutMs` passed: its record then
   * (and its in-memory result when this process executed it), or null when
   * it is still going. Unknown runs are a 404.
   */
  async waitForEnd(
    runId: string,
    timeoutMs: number,
  ): Promise<{ record: HistoryRecordDetail; result?: RunResult } | null> {
    const deadline = Date.now() + timeoutMs;
    let local: RunResult | undefined;
    let wake: (() => void) | undefined;
    const stopListening = this.#options.signals.on('runEnded', (result) => {
      if (result.run_id !== runId) return;
      local = result;
      wake?.();
    });
    try {
      let delay = WAIT_POLL_FIRST_MS;
      for (;;) {
        const status = local ? local.status : await this.#stores.history.statusOf(runId);
        if (status === null) throw new NotFoundError(`no run with id "${runId}"`);
        if (ENDED_STATUSES.includes(status as RunStatus)) {
          const record = await this.#stores.history.getRun(runId);
          if (record) return local ? { record, result: local } : { record };
          throw new NotFoundError(`no run with id "${runId}"`);
        }
        const left = deadline - Date.now();
        if (left <= 0) return null;
        const ac = new AbortController();
        wake = () => ac.abort();
        await sleep(Math.min(delay, left), undefined, { signal: ac.signal }).catch(() => {});
        delay = Math.min(delay * 2, WAIT_POLL_MAX_MS);
      }
    } finally {
      stopListening();
    }
  }

  /**
   * Cancels a run (SPEC §11): a queued one at once (with its
   * `workflow.cancelled` event), a running one by asking its executor — here
   * at once, in another process through the database within a second.
   */
  async cancel(runId: string, reason: string): Promise<CancelOutcome> {
    const outcome = await this.#stores.queue.requestCancel(runId, reason);
    if (outcome.kind === 'cancelled') await this.#cancelledEvent(runId, outcome.workflow, reason);
    if (outcome.kind === 'requested') this.#options.signals.emit('cancelRequested', runId, reason);
    return outcome;
  }

  /** Queues a rerun of an ended run (SPEC §11); 404 for an unknown run, 409 while it has not ended. */
  async rerun(
    parentRunId: string,
    from: RerunFrom,
    options: Pick<StartOptions, 'triggeredBy' | 'idempotencyKey'> = {},
  ): Promise<Started> {
    const parent = await this.#stores.history.getRun(parentRunId);
    if (!parent) throw new NotFoundError(`no run with id "${parentRunId}"`);
    if (!ENDED_STATUSES.includes(parent.status))
      throw new ConflictError(
        `run ${parentRunId} is ${parent.status}: only an ended run can be rerun (cancel it first, or wait for it)`,
      );
    return this.start(parent.workflow_name, {
      ...options,
      trigger: 'rerun',
      parentRunId,
      rerunFrom: from,
      ...(parent.trace_id ? { trace: { traceId: parent.trace_id, parentSpanId: null } } : {}),
    });
  }

  /** Interrupts runs whose worker died, cancels runs past their queue timeout; wakes this process's workers for requeued runs. */
  async reconcile(): Promise<void> {
    const outcome = await this.#stores.queue.reconcile();
    for (const { runId, workflow } of outcome.interrupted)
      this.#options.logger.warn('run interrupted: its worker was lost (lease expired)', {
        run_id: runId,
        workflow,
      });
    for (const { runId, workflow } of outcome.timedOut)
      await this.#cancelledEvent(runId, workflow, 'queue timeout');
    for (const runId of outcome.requeued) this.#options.signals.emit('runQueued', runId);
  }

  async #cancelledEvent(runId: string, workflow: string, reason: string): Promise<void> {
    try {
      const deliveries = await storeEvent(this.#stores, {
        event_type: 'workflow.cancelled',
        timestamp: new Date().toISOString(),
        workflow_name: workflow,
        run_id: runId,
        data: { reason },
      });
      this.#options.signals.emit('eventsStored', runId);
      if (deliveries > 0) this.#options.signals.emit('deliveriesQueued', runId);
    } catch (error) {
      this.#options.logger.error('recording a workflow.cancelled event failed', {
        run_id: runId,
        error: errorMessage(error),
      });
    }
  }
}

/** A run's result (SPEC §3) as recorded, for a run this process did not execute. */
export function runResultOf(record: HistoryRecordDetail): RunResult {
  return {
    run_id: record.run_id,
    workflow_name: record.workflow_name,
    status: (record.status === 'queued' || record.status === 'running'
      ? 'interrupted'
      : record.status) as RunEnding,
    success: record.success === true,
    reason: record.reason,
    started_at: record.started_at ?? record.queued_at,
    completed_at: record.completed_at ?? record.started_at ?? record.queued_at,
    duration_ms: record.duration_ms ?? 0,
    steps: record.steps.map((step) => ({
      step_type: step.step_type,
      service: step.service,
      success: step.success,
      skipped: step.skipped,
      data: step.data,
      error: step.error,
      duration_ms: step.duration_ms,
      attempts: step.attempt_details,
      ...(step.reused ? { reused: true } : {}),
    })),
  };
}
