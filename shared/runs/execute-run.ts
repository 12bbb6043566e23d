import { findWorkflow } from '../config/lookup.ts';
import type { AegisConfig, WorkflowConfig } from '../config/schema.ts';
import type { Environment } from '../env.ts';
import { errorMessage } from '../errors.ts';
import { stepStatement } from '../history/history-store.ts';
import { insightStatements } from '../insight/record.ts';
import type { Logger } from '../logger.ts';
import type { Signals } from '../signals.ts';
import { type Stores, storeEvent } from '../stores.ts';
import { batchesOf, type RunObserver, runWorkflow } from '../workflow/run-workflow.ts';
import type { RunResult, StepResult } from '../workflow/types.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import type { ClaimedRun } from './run-queue.ts';

export interface ExecuteRunDeps {
  config: AegisConfig;
  env: Environment;
  stores: Stores;
  logger: Logger;
  signals: Signals;
  leases: LeaseKeeper;
  /** Extra listeners: the CLI's progress lines, the metrics. */
  observers?: readonly RunObserver[];
}

/**
 * The one place a run is executed, whoever claimed it (a host's worker,
 * `aegis run`, a Lambda function): the engine under the run's lease, its
 * record and events written as it goes, its reused steps copied from the
 * parent of a rerun.
 */
export async function executeClaimedRun(
  claim: ClaimedRun,
  deps: ExecuteRunDeps,
): Promise<RunResult> {
  const workflow = findWorkflow(deps.config, claim.workflow);
  const log = deps.logger.createChild({
    persistentKeys: {
      workflow: claim.workflow,
      run_id: claim.runId,
      ...(claim.traceId ? { trace_id: claim.traceId } : {}),
    },
  });
  const signal = deps.leases.track(claim.runId, workflow.on_interrupt);
  try {
    const reused =
      claim.rerunFrom === 'failed' && claim.parentRunId
        ? reusableSteps(workflow, await deps.stores.history.stepsOf(claim.parentRunId))
        : [];
    const result = await runWorkflow({
      key: claim.workflow,
      runId: claim.runId,
      workflow,
      services: deps.config.services,
      env: deps.env,
      startedAt: new Date(claim.startedAt),
      traceId: claim.traceId,
      signal,
      reused,
      submittedBefore: (workflow, failures, days) =>
        deps.stores.insight.submittedBefore(workflow, failures, days),
      observers: [
        recordRun(deps.stores, deps.signals, deps.leases.owner),
        ...(deps.observers ?? []),
      ],
      onObserverError: (error) =>
        log.error('recording or reporting the run failed', { error: errorMessage(error) }),
    });
    if (result.status !== 'completed') log.info(`run ${result.status}`, { reason: result.reason });
    deps.signals.emit('runEnded', result);
    return result;
  } finally {
    deps.leases.release(claim.runId);
  }
}

/**
 * What a rerun from the failed step copies from its parent: the whole
 * batches before the first batch with a step that failed or never finished
 * (interrupted or cancelled), as long as each step is the one the workflow
 * still declares at its place. A run with no failed step reruns from the start.
 */
export function reusableSteps(
  workflow: WorkflowConfig,
  parentSteps: ReadonlyMap<number, StepResult>,
): StepResult[] {
  const reused: StepResult[] = [];
  for (const batch of batchesOf(workflow.steps)) {
    const steps = batch.map((index) => parentSteps.get(index));
    const intact = steps.every(
      (step, i) =>
        step?.success === true &&
        step.step_type === workflow.steps[batch[i] as number]?.type &&
        step.service === workflow.steps[batch[i] as number]?.service,
    );
    if (!intact) return reused;
    reused.push(...(steps as StepResult[]));
  }
  return []; // nothing failed: from the start
}

/**
 * Records a run as it goes (SPEC §4, §11): each step as it finishes, with
 * what it tells of its tests (SPEC §14); the last batch's steps in one
 * transaction with the run's end; every event with its webhook deliveries —
 * each write only while this process holds the run's lease. Once the lease is lost, nothing more is written: the process
 * that reclaimed the run owns its record.
 */
function recordRun(stores: Stores, signals: Signals, owner: string): RunObserver {
  /** Steps the end must write: the last batch's, and any whose own write failed. */
  const unwritten: { index: number; step: StepResult }[] = [];
  let recording = true;
  return {
    stepFinished: async (index, step, { final, runId }) => {
      if (final) {
        unwritten.push({ index, step });
        return;
      }
      try {
        const tests = insightStatements(runId, index, step, owner);
        await stores.history.recordStep(runId, index, step, owner, tests);
      } catch (error) {
        unwritten.push({ index, step });
        throw error;
      }
    },
    runFinished: async (result) => {
      const stopped = result.status !== 'completed';
      const ended = await stores.queue.finish({
        runId: result.run_id,
        owner,
        status: result.status,
        success: stopped ? null : result.success,
        completedAt: result.completed_at,
        durationMs: result.duration_ms,
        reason: result.reason,
        // In declared order, so that a step's inferred passes see the earlier steps' failures.
        before: unwritten
          .sort((a, b) => a.index - b.index)
          .flatMap(({ index, step }) => [
            stepStatement(result.run_id, index, step, owner),
            ...insightStatements(result.run_id, index, step, owner),
          ]),
        after: stores.history.retention(result.workflow_name),
      });
      recording = ended.recorded;
      if (ended.requeuedRunId) signals.emit('runQueued', ended.requeuedRunId);
    },
    event: async (event) => {
      if (!recording) return;
      const deliveries = await storeEvent(stores, event);
      signals.emit('eventsStored', event.run_id);
      if (deliveries > 0) signals.emit('deliveriesQueued', event.run_id);
    },
  };
}
