import type { Client } from '@libsql/client';
import { ConflictError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RunService } from '../runs/run-service.ts';
import { ScheduleTicks } from './tick-store.ts';
import type { Tick, WorkflowSchedule } from './workflow-schedule.ts';

export type TickOutcome =
  /** This process queued the tick's run. */
  | { kind: 'queued'; runId: string }
  /** Another process (host or Lambda drain) had queued it already. */
  | { kind: 'taken'; runId: string }
  /** The workflow's concurrency rule (`reject`) refused it: the tick passes without a run. */
  | { kind: 'refused'; message: string };

export interface FireOptions {
  runs: RunService;
  db: Client;
  logger: Logger;
}

/** Queues the run of one tick (`trigger: schedule`) unless another process did: the tick's row decides. */
export async function fireTick(
  { runs, db, logger }: FireOptions,
  workflow: string,
  tick: Tick,
): Promise<TickOutcome> {
  const fields = { workflow, cron: tick.cron, tick_at: new Date(tick.at).toISOString() };
  try {
    const started = await runs.start(workflow, {
      trigger: 'schedule',
      dedupe: new ScheduleTicks(db).claim(workflow, tick),
    });
    if (started.existing) {
      logger.debug('schedule tick already queued by another process', {
        ...fields,
        run_id: started.runId,
      });
      return { kind: 'taken', runId: started.runId };
    }
    logger.info('schedule tick: run queued', { ...fields, run_id: started.runId });
    return { kind: 'queued', runId: started.runId };
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    logger.warn('schedule tick skipped: the workflow is at its concurrency limit', {
      ...fields,
      error: errorMessage(error),
    });
    return { kind: 'refused', message: error.message };
  }
}

/**
 * What the Lambda drain does each time it is invoked (every minute): for each
 * schedule, the latest tick that is due and that no process has queued yet —
 * within `windowMs`, or since the last claimed tick with `catch_up: true`.
 */
export async function fireDueTicks(
  options: FireOptions & {
    schedules: readonly WorkflowSchedule[];
    windowMs: number;
    now?: number;
  },
): Promise<TickOutcome[]> {
  const now = options.now ?? Date.now();
  const ticks = new ScheduleTicks(options.db);
  const outcomes: TickOutcome[] = [];
  for (const schedule of options.schedules) {
    const last = await ticks.lastTickAt(schedule.workflow);
    const recent = now - options.windowMs;
    const since = schedule.catchUp ? (last ?? recent) : Math.max(last ?? recent, recent);
    const tick = schedule.due(since, now);
    if (tick) outcomes.push(await fireTick(options, schedule.workflow, tick));
  }
  return outcomes;
}
