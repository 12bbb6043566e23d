import type { Client } from '@libsql/client';

/** What the gauges show, read from the database at scrape time, so every host reports the same. */
export interface DatabaseSnapshot {
  queued: ReadonlyMap<string, number>;
  running: ReadonlyMap<string, number>;
  outboxPending: number;
}

/**
 * Three counts in one read batch. Each searches a status index
 * (`runs_by_status`, `deliveries_by_status`), so a history of 100,000
 * finished runs costs what ten do: only the waiting and running rows are read.
 */
export async function readDatabaseSnapshot(db: Client): Promise<DatabaseSnapshot> {
  const [queued, running, pending] = await db.batch(
    [
      `SELECT workflow_name, COUNT(*) AS n FROM runs WHERE status = 'queued' GROUP BY workflow_name`,
      `SELECT workflow_name, COUNT(*) AS n FROM runs WHERE status = 'running' GROUP BY workflow_name`,
      `SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'`,
    ],
    'read',
  );
  const byWorkflow = (rows: typeof queued) =>
    new Map((rows?.rows ?? []).map((row) => [String(row.workflow_name), Number(row.n)]));
  return {
    queued: byWorkflow(queued),
    running: byWorkflow(running),
    outboxPending: Number(pending?.rows[0]?.n ?? 0),
  };
}
