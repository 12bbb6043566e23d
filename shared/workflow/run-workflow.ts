import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { callSignal } from '../abort.ts';
import type { ServiceConfig, StepConfig, WorkflowConfig } from '../config/schema.ts';
import type { Environment } from '../env.ts';
import { errorMessage } from '../errors.ts';
import type { AegisEvent, EventType } from '../events/types.ts';
import type { SubmittedBefore } from '../insight/dedupe.ts';
import { roundMs, timerDelay } from '../time.ts';
import { isTraceId, newTraceId, traceparentFor } from '../trace.ts';
import { conditionHolds } from './conditions.ts';
import { describeCall, STEP_CALLS, STEP_EXECUTORS } from './steps.ts';
import {
  isRunStop,
  type RunResult,
  type RunStart,
  type RunStop,
  type StepAttempt,
  type StepResult,
} from './types.ts';

/**
 * What the runner tells the rest of the system while a run goes on: the
 * history recorder, the event store and the CLI's progress lines all listen
 * here. An observer that throws is reported through `onObserverError` and
 * never stops the run.
 */
export interface RunObserver {
  runStarted?(start: RunStart): void | Promise<void>;
  /**
   * A step finished (in the order steps finish). `final` marks the steps of
   * the last batch, which the history writes together with the run's completion.
   */
  stepFinished?(
    index: number,
    step: StepResult,
    info: { final: boolean; runId: string },
  ): void | Promise<void>;
  runFinished?(result: RunResult): void | Promise<void>;
  /** A lifecycle event, in SPEC §3's order. */
  event?(event: AegisEvent): void | Promise<void>;
}

export interface RunWorkflowOptions {
  key: string;
  workflow: WorkflowConfig;
  services: Readonly<Record<string, ServiceConfig>>;
  env: Environment;
  observers?: readonly RunObserver[];
  onObserverError?: (error: unknown) => void;
  runId?: string;
  /** When the run started (its claim); now by default. */
  startedAt?: Date;
  /** The W3C trace the run's calls carry (each attempt a span of its own); a new one when absent. */
  traceId?: string | null;
  /**
   * Stops the run: in-flight requests are aborted, no further step starts;
   * its reason (a RunStop) says what the run ends as.
   */
  signal?: AbortSignal;
  /** A rerun's first steps, copied from its parent: recorded as `reused`, not called again. */
  reused?: readonly StepResult[];
  /** What submit_bugs with `dedupe: true` asks about earlier submissions (none: nothing was submitted before). */
  submittedBefore?: SubmittedBefore;
}

/** Consecutive `parallel: true` steps form one batch; every other step is a batch of its own. */
export function batchesOf(steps: readonly StepConfig[]): number[][] {
  const batches: number[][] = [];
  steps.forEach((step, index) => {
    const last = batches[batches.length - 1];
    const previous = steps[index - 1];
    if (step.parallel && previous?.parallel && last) last.push(index);
    else batches.push([index]);
  });
  return batches;
}

function timerMs(seconds: number): number {
  return timerDelay(seconds * 1000);
}

/**
 * Runs a workflow (SPEC §3): conditions, retries with exponential backoff,
 * per-attempt timeouts that abort the HTTP request, parallel batches, events.
 * A failing step never throws out of here; later steps decide by their conditions.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<RunResult> {
  const { key, workflow, services, env, observers = [], signal } = options;
  const runId = options.runId ?? randomUUID();
  const startedAt = options.startedAt ?? new Date();
  // A run recorded before trace ids (or with a damaged one) gets a trace of its own.
  const traceId = options.traceId && isTraceId(options.traceId) ? options.traceId : newTraceId();
  const clockStart = performance.now();

  const notify = async (call: (observer: RunObserver) => void | Promise<void> | undefined) => {
    for (const observer of observers) {
      try {
        await call(observer);
      } catch (error) {
        try {
          options.onObserverError?.(error);
        } catch {
          // Reporting a broken observer must not break the run either.
        }
      }
    }
  };
  const emit = (event_type: EventType, data: Record<string, unknown>) =>
    notify((o) =>
      o.event?.({
        event_type,
        timestamp: new Date().toISOString(),
        workflow_name: key,
        run_id: runId,
        data,
      }),
    );

  const start: RunStart = {
    run_id: runId,
    workflow_name: key,
    started_at: startedAt.toISOString(),
    step_count: workflow.steps.length,
  };
  await notify((o) => o.runStarted?.(start));
  await emit('workflow.started', { step_count: workflow.steps.length });

  const results: StepResult[] = [];
  let failureReported = false;
  const reused = options.reused ?? [];
  const batches = batchesOf(workflow.steps);
  for (const [batchIndex, batch] of batches.entries()) {
    if (signal?.aborted) break;
    const earlier = results.slice();
    const final = batchIndex === batches.length - 1;
    const finished = await Promise.all(
      batch.map(async (index) => {
        const copied = reused[index];
        const result = copied
          ? { ...copied, reused: true }
          : await executeStep(workflow.steps[index] as StepConfig, {
              services,
              env,
              earlier,
              runStartedAt: clockStart,
              signal,
              traceId,
              workflow: key,
              submittedBefore: options.submittedBefore,
            });
        if (result)
          await notify((o) => o.stepFinished?.(index, result, { final: final && !copied, runId }));
        return result;
      }),
    );
    for (const result of finished) {
      if (!result) continue; // stopped mid-step: not a finished step
      results.push(result);
      await emit('step.completed', {
        step_type: result.step_type,
        service: result.service,
        success: result.success,
        skipped: result.skipped,
        duration_ms: result.duration_ms,
        ...(result.reused ? { reused: true } : {}),
      });
      if (!result.success && !failureReported) {
        failureReported = true;
        await emit('failure.detected', {
          step_type: result.step_type,
          service: result.service,
          error: result.error,
        });
      }
    }
  }

  const durationMs = roundMs(performance.now() - clockStart);
  const stop = results.length < workflow.steps.length ? stopOf(signal) : null;
  const result: RunResult = {
    run_id: runId,
    workflow_name: key,
    status: stop?.status ?? 'completed',
    success: stop === null && results.every((step) => step.success),
    reason: stop?.reason ?? null,
    started_at: start.started_at,
    completed_at: new Date(startedAt.getTime() + durationMs).toISOString(),
    duration_ms: durationMs,
    steps: results,
  };
  await notify((o) => o.runFinished?.(result));
  if (stop === null)
    await emit('workflow.completed', {
      success: result.success,
      total_duration_ms: durationMs,
      steps_passed: results.filter((s) => s.success && !s.skipped).length,
      steps_failed: results.filter((s) => !s.success).length,
      steps_skipped: results.filter((s) => s.skipped).length,
    });
  else if (stop.status === 'cancelled') await emit('workflow.cancelled', { reason: stop.reason });
  return result;
}

/** What a stopped run ends as; a signal aborted without a RunStop is a plain cancel. */
function stopOf(signal: AbortSignal | undefined): RunStop {
  const reason: unknown = signal?.reason;
  return isRunStop(reason) ? reason : { status: 'cancelled', reason: 'cancelled', record: true };
}

interface ExecuteContext {
  services: Readonly<Record<string, ServiceConfig>>;
  env: Environment;
  earlier: readonly StepResult[];
  runStartedAt: number;
  /** The run's stop: aborts the attempt in flight and the wait before the next. */
  signal: AbortSignal | undefined;
  traceId: string;
  workflow: string;
  submittedBefore: SubmittedBefore | undefined;
}

/** Runs one step with its retries; null when the run was stopped before the step finished. */
async function executeStep(step: StepConfig, context: ExecuteContext): Promise<StepResult | null> {
  const base = { step_type: step.type, service: step.service };
  if (!conditionHolds(step.condition, context.earlier)) {
    return {
      ...base,
      success: true,
      skipped: true,
      data: { message: `Skipped: condition '${step.condition}' not met` },
      error: null,
      duration_ms: 0,
      attempts: [],
    };
  }
  const stepStart = performance.now();
  const attempts: StepAttempt[] = [];
  let lastError = '';
  for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
    // Before attempt k+1: retry_delay × 2^(k-1) seconds (SPEC §3).
    if (attempt > 1) {
      const waited = await sleep(timerMs(step.retry_delay * 2 ** (attempt - 2)), true, {
        signal: context.signal,
      }).catch(() => false);
      if (!waited) return null;
    }
    const attemptStart = performance.now();
    const outcome = await attemptOnce(step, context);
    if (context.signal?.aborted) return null;
    const duration_ms = roundMs(performance.now() - attemptStart);
    if (outcome.ok) {
      attempts.push({ attempt, success: true, error: null, duration_ms });
      return {
        ...base,
        success: true,
        skipped: false,
        data: outcome.data,
        error: null,
        duration_ms: roundMs(performance.now() - stepStart),
        attempts,
      };
    }
    lastError = outcome.error;
    attempts.push({ attempt, success: false, error: lastError, duration_ms });
  }
  return {
    ...base,
    success: false,
    skipped: false,
    data: {},
    error: lastError,
    duration_ms: roundMs(performance.now() - stepStart),
    attempts,
  };
}

type AttemptOutcome = { ok: true; data: Record<string, unknown> } | { ok: false; error: string };

/** One attempt, cut off after `timeout` seconds: the abort reaches the HTTP request, and the race ends the wait. */
async function attemptOnce(step: StepConfig, context: ExecuteContext): Promise<AttemptOutcome> {
  const service = context.services[step.service];
  if (!service) return { ok: false, error: `unknown service "${step.service}"` };
  // SPEC §3 wants both: the error names service, method and path, and says `Step timed out after <timeout>s`.
  const call = STEP_CALLS[step.type];
  const timedOut = `${call ? `${describeCall(step.service, call)}: ` : ''}Step timed out after ${step.timeout}s`;
  const attempt = callSignal(step.timeout * 1000, context.signal, () => new Error(timedOut));
  const deadline = new Promise<AttemptOutcome>((resolve) => {
    attempt.signal.addEventListener(
      'abort',
      () => {
        if (attempt.timedOut()) resolve({ ok: false, error: timedOut });
      },
      { once: true },
    );
  });
  const work = STEP_EXECUTORS[step.type](step, {
    key: step.service,
    service,
    env: context.env,
    signal: attempt.signal,
    earlier: context.earlier,
    runStartedAt: context.runStartedAt,
    traceparent: traceparentFor(context.traceId),
    workflow: context.workflow,
    submittedBefore: context.submittedBefore,
  }).then(
    (data): AttemptOutcome => ({ ok: true, data }),
    (error: unknown): AttemptOutcome => ({
      ok: false,
      error: attempt.timedOut() && !context.signal?.aborted ? timedOut : errorMessage(error),
    }),
  );
  try {
    return await Promise.race([work, deadline]);
  } finally {
    attempt.done();
  }
}
