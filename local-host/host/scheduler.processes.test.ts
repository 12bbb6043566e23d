import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type RunningAegis, spawnAegis } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';
import { QA_AGENT_ROUTES, startStub } from '#test/support/stub-service.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';
import { startHranaServerProcess } from '../../infra/test-support/hrana-server-process.ts';

/*
 * SPEC §12, §16: a 2-second schedule with two `aegis serve` processes on one
 * database — a file, then one libSQL server (the Hrana test server) — runs on
 * time and never twice per tick. Real processes, the real clock.
 */

interface Backend {
  /** What both hosts get in their environment, and where the database file is to read it afterwards. */
  setUp(dir: string): Promise<{ env: Record<string, string>; path: string }>;
}

const BACKENDS: Record<string, Backend> = {
  'one database file': {
    setUp: async (dir) => {
      const path = join(dir, 'shared.db');
      return { env: { AEGIS_DB_PATH: path }, path };
    },
  },
  'one libSQL server (AEGIS_DB_URL)': {
    setUp: async () => {
      const server = await startHranaServerProcess();
      onTestFinished(() => server.close());
      return { env: { AEGIS_DB_URL: server.url }, path: server.path };
    },
  },
};

async function serve(config: string, env: Record<string, string>): Promise<RunningAegis> {
  const host = spawnAegis(['serve', '--host', '127.0.0.1', '--port', '0', '--config', config], {
    env: { ...env, LOG_LEVEL: 'INFO', LOG_FORMAT: 'json' },
    timeoutMs: 60_000,
  });
  onTestFinished(() => {
    host.child.kill('SIGKILL');
  });
  await eventually(
    () => (host.stdout().includes('"Aegis listening on') ? true : undefined),
    15_000,
    `aegis serve to listen (stderr: ${host.stderr()})`,
  );
  return host;
}

interface ScheduledRun {
  run_id: string;
  status: string;
  queued_at: string;
  started_at: string | null;
  tick_at: number | null;
}

describe.each(Object.entries(BACKENDS))('a schedule with two hosts on %s', (_, backend) => {
  it('queues each tick once, within a second of it, and its run is executed once', async () => {
    // Prepare
    const qa = await startStub(QA_AGENT_ROUTES);
    onTestFinished(() => qa.close());
    const dir = tempDir();
    const config = writeConfig(
      `
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  heartbeat:
    name: Heartbeat
    schedule: ["*/2 * * * * *"]
    steps: [{ type: discover, service: qaagent }]
`,
      dir,
    );
    const { env, path } = await backend.setUp(dir);

    // Act: two hosts, until four ticks have run through both of them
    const hosts = [await serve(config, env), await serve(config, env)];
    const db = new Database(path, { timeout: 5_000 });
    onTestFinished(() => {
      db.close();
    });
    const completed = () =>
      Number(
        (
          db
            .prepare(
              `SELECT count(*) AS n FROM runs WHERE trigger = 'schedule' AND status = 'completed'`,
            )
            .get() as { n: number }
        ).n,
      );
    await eventually(() => (completed() >= 4 ? true : undefined), 20_000, 'four scheduled runs');
    for (const host of hosts) host.child.kill('SIGTERM');
    const codes = await Promise.all(hosts.map((host) => host.exited));

    // Assess
    expect(codes).toEqual([0, 0]);
    const runs = db
      .prepare(
        `SELECT r.run_id, r.status, r.queued_at, r.started_at, t.tick_at FROM runs AS r
           LEFT JOIN schedule_ticks AS t ON t.run_id = r.run_id
           WHERE r.trigger = 'schedule' ORDER BY t.tick_at`,
      )
      .all() as ScheduledRun[];
    // Every run has its tick, every tick one run.
    expect(runs.every((run) => run.tick_at !== null)).toBe(true);
    const ticks = runs.map((run) => Number(run.tick_at));
    expect(new Set(ticks).size).toBe(runs.length);
    // The ticks are the schedule's, none missed while both hosts ran…
    for (const tick of ticks) expect(tick % 2_000).toBe(0);
    expect(ticks.slice(1).map((tick, i) => tick - (ticks[i] as number))).toEqual(
      ticks.slice(1).map(() => 2_000),
    );
    // …each queued within a second of its instant, never before it.
    for (const run of runs) {
      const late = Date.parse(run.queued_at) - Number(run.tick_at);
      expect(late, `run ${run.run_id} queued ${late} ms after its tick`).toBeGreaterThanOrEqual(0);
      expect(late, `run ${run.run_id} queued ${late} ms after its tick`).toBeLessThan(1_000);
    }
    // Each run that started called the QA agent once: no tick ran twice.
    const executed = runs.filter((run) => run.started_at !== null);
    expect(executed.length).toBeGreaterThanOrEqual(4);
    expect(qa.calls('GET /api/routes')).toHaveLength(executed.length);
    // Both hosts queued ticks or saw them taken: the one that queued a tick says so in its log.
    const queuedLines = hosts.flatMap((host) =>
      host
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"schedule tick: run queued"')),
    );
    expect(queuedLines).toHaveLength(runs.length);
  }, 60_000);
});
