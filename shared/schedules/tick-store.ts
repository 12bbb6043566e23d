import type { Client } from '@libsql/client';
import { statement } from '../db/statement.ts';
import type { DedupeKey } from '../runs/run-queue.ts';
import type { Tick } from './workflow-schedule.ts';

/** Ticks older than this are pruned, but for the newest of each expression (GET /api/schedules shows its run). */
const KEEP_TICKS_MS = 24 * 60 * 60 * 1000;

/**
 * The claimed schedule ticks (SPEC §12, §16): one row per workflow and
 * instant, written in the batch that queues the tick's run, so that every
 * host (and the Lambda drain) on one database queues each tick once.
 */
export class ScheduleTicks {
  readonly #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /** What `RunService.start` needs to queue the tick's run only if no process did. */
  claim(workflow: string, tick: Tick, now = Date.now()): DedupeKey {
    return {
      table: 'schedule_ticks',
      key: { workflow_name: workflow, tick_at: tick.at },
      columns: { cron: tick.cron, claimed_at: now },
      before: [
        statement(
          `DELETE FROM schedule_ticks WHERE workflow_name = :wf AND tick_at < :horizon
              AND tick_at < (SELECT max(t.tick_at) FROM schedule_ticks AS t
                             WHERE t.workflow_name = schedule_ticks.workflow_name AND t.cron = schedule_ticks.cron)`,
          { wf: workflow, horizon: tick.at - KEEP_TICKS_MS },
        ),
      ],
    };
  }

  /** The newest tick claimed for a workflow (what `catch_up` compares with), or null. */
  async lastTickAt(workflow: string): Promise<number | null> {
    const result = await this.#db.execute({
      sql: 'SELECT max(tick_at) AS at FROM schedule_ticks WHERE workflow_name = ?',
      args: [workflow],
    });
    const at = result.rows[0]?.at;
    return at === null || at === undefined ? null : Number(at);
  }

  /** The run of each expression's newest tick, by `workflow` and `cron`. */
  async lastRuns(workflows: readonly string[]): Promise<Map<string, string>> {
    const result = await this.#db.execute({
      // SQLite takes the other columns of a max() row from that row.
      sql: `SELECT workflow_name, cron, run_id, max(tick_at) FROM schedule_ticks
            WHERE workflow_name IN (SELECT value FROM json_each(?)) GROUP BY workflow_name, cron`,
      args: [JSON.stringify(workflows)],
    });
    return new Map(
      result.rows.map((row) => [
        lastRunKey(String(row.workflow_name), String(row.cron)),
        String(row.run_id),
      ]),
    );
  }
}

export function lastRunKey(workflow: string, cron: string): string {
  return JSON.stringify([workflow, cron]);
}
