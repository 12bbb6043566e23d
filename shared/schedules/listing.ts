import type { Client } from '@libsql/client';
import type { AegisConfig } from '../config/schema.ts';
import { lastRunKey, ScheduleTicks } from './tick-store.ts';
import { schedulesOf } from './workflow-schedule.ts';

/** One expression of a workflow's schedule, as `GET /api/schedules` and `aegis schedules` show it. */
export interface ScheduleListing {
  workflow: string;
  cron: string;
  timezone: string;
  /** The next tick of this expression (ISO 8601, UTC), or null when it has none left. */
  next_run_at: string | null;
  /** The run of its newest tick (whichever process queued it), or null before the first. */
  last_run_id: string | null;
}

/** Every schedule expression of the config, in config order, with its next tick and its last run. */
export async function listSchedules(
  config: AegisConfig,
  db: Client,
  now = Date.now(),
): Promise<ScheduleListing[]> {
  const schedules = schedulesOf(config);
  if (schedules.length === 0) return [];
  const lastRuns = await new ScheduleTicks(db).lastRuns(schedules.map((s) => s.workflow));
  return schedules.flatMap((schedule) =>
    schedule.crons.map((cron) => {
      const next = cron.next(now);
      return {
        workflow: schedule.workflow,
        cron: cron.expression,
        timezone: schedule.timezone,
        next_run_at: next === null ? null : new Date(next).toISOString(),
        last_run_id: lastRuns.get(lastRunKey(schedule.workflow, cron.expression)) ?? null,
      };
    }),
  );
}
