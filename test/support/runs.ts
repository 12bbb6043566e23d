import type { StepType, WorkflowConfig } from '#shared/config/schema.ts';
import { stepStatement } from '#shared/history/history-store.ts';
import { insightStatements } from '#shared/insight/record.ts';
import type { ClaimedRun, EnqueueRequest, RunTrigger } from '#shared/runs/run-queue.ts';
import type { Stores } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';

/** The owner name the helpers claim runs under, as one process would. */
export const OWNER = 'test-owner';

export function step(step_type: StepType, overrides: Partial<StepResult> = {}): StepResult {
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

type Settings = EnqueueRequest['settings'];
const PLAIN: Settings = { on_interrupt: 'none' };

/** Queues a run through the queue's own API; its id. */
export async function queueRun(
  s: Stores,
  workflow = 'smoke',
  options: Partial<Omit<EnqueueRequest, 'workflow' | 'settings'>> & {
    settings?: Partial<Pick<WorkflowConfig, 'concurrency' | 'queue_timeout' | 'on_interrupt'>>;
  } = {},
): Promise<string> {
  const outcome = await s.queue.enqueue({
    trigger: 'api' as RunTrigger,
    ...options,
    workflow,
    settings: { ...PLAIN, ...options.settings },
  });
  if (outcome.kind !== 'queued') throw new Error(`not queued: ${JSON.stringify(outcome)}`);
  return outcome.runId;
}

/** Claims that run as OWNER (or `owner`). */
export async function claimRun(
  s: Stores,
  runId: string,
  { owner = OWNER, leaseMs = 60_000, workflows = [] as string[], now = Date.now() } = {},
): Promise<ClaimedRun> {
  const claim = await s.queue.claim({
    owner,
    leaseMs,
    runId,
    now,
    workflows: workflows.length > 0 ? workflows : await workflowOf(s, runId),
  });
  if (!claim) throw new Error(`run ${runId} could not be claimed`);
  return claim;
}

async function workflowOf(s: Stores, runId: string): Promise<string[]> {
  const row = (
    await s.db.execute({ sql: 'SELECT workflow_name FROM runs WHERE run_id = ?', args: [runId] })
  ).rows[0];
  return row ? [String(row.workflow_name)] : [];
}

/**
 * Ends a claimed run with `steps` written in the same transaction (those not written yet), each
 * with its test-insight rows, as the executor writes them; `now` is when the run started.
 */
export async function finishRun(
  s: Stores,
  runId: string,
  steps: readonly { index: number; step: StepResult }[],
  {
    owner = OWNER,
    status = 'completed' as 'completed' | 'cancelled' | 'interrupted',
    success = true as boolean | null,
    reason = null as string | null,
    workflow = 'smoke',
    now = Date.now(),
    durationMs = 250.5,
  } = {},
) {
  return s.queue.finish({
    runId,
    owner,
    status,
    success,
    completedAt: new Date(now + durationMs).toISOString(),
    durationMs,
    reason,
    before: steps.flatMap(({ index, step: result }) => [
      stepStatement(runId, index, result, owner),
      ...insightStatements(runId, index, result, owner, now),
    ]),
    after: s.history.retention(workflow),
    now,
  });
}

/** A whole run, as a host records one: queued, claimed, finished with one step. */
export async function recordWholeRun(s: Stores, workflow = 'smoke'): Promise<string> {
  const runId = await queueRun(s, workflow);
  await claimRun(s, runId);
  await finishRun(s, runId, [{ index: 0, step: step('discover') }], { workflow });
  return runId;
}
