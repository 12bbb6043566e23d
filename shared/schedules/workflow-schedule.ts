import type { AegisConfig } from '../config/schema.ts';
import { type CronSchedule, parseCron } from './cron.ts';

/** One instant a workflow is due, and the expression it comes from (the first listed, when two agree). */
export interface Tick {
  at: number;
  cron: string;
}

/**
 * A workflow's `schedule:` as one sequence of ticks: the union of its
 * expressions' instants, so that two expressions naming the same instant
 * make one tick (and one run).
 */
export class WorkflowSchedule {
  readonly workflow: string;
  readonly timezone: string;
  readonly catchUp: boolean;
  readonly crons: readonly CronSchedule[];

  constructor(
    workflow: string,
    settings: { schedule: readonly string[]; timezone: string; catch_up: boolean },
  ) {
    this.workflow = workflow;
    this.timezone = settings.timezone;
    this.catchUp = settings.catch_up;
    this.crons = settings.schedule.map((expression) => parseCron(expression, settings.timezone));
  }

  /** The first tick strictly after `afterMs`. */
  next(afterMs: number): Tick | null {
    return pick(
      this.crons,
      (cron) => cron.next(afterMs),
      (a, b) => a < b,
    );
  }

  /** The last tick at or before `atMs`. */
  latest(atMs: number): Tick | null {
    return pick(
      this.crons,
      (cron) => cron.latest(atMs),
      (a, b) => a > b,
    );
  }

  /**
   * The tick to fire at `now`: the latest one after `since` (exclusive) and
   * at or before `now`; the ones before it in that span are skipped (one run
   * for a span, however many ticks it held).
   */
  due(since: number, now: number): Tick | null {
    const tick = this.latest(now);
    return tick && tick.at > since ? tick : null;
  }
}

function pick(
  crons: readonly CronSchedule[],
  instant: (cron: CronSchedule) => number | null,
  better: (a: number, b: number) => boolean,
): Tick | null {
  let found: Tick | null = null;
  for (const cron of crons) {
    const at = instant(cron);
    if (at !== null && (found === null || better(at, found.at)))
      found = { at, cron: cron.expression };
  }
  return found;
}

/** Every workflow that has a schedule, in config order (the config was validated: every expression parses). */
export function schedulesOf(config: AegisConfig): WorkflowSchedule[] {
  return Object.entries(config.workflows)
    .filter(([, workflow]) => workflow.schedule.length > 0)
    .map(([key, workflow]) => new WorkflowSchedule(key, workflow));
}
