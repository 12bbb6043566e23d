import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testContext } from '#test/support/context.ts';
import { queueRun } from '#test/support/runs.ts';
import { tempDir } from '#test/support/temp.ts';
import { fireDueTicks, fireTick } from './fire.ts';
import { listSchedules } from './listing.ts';
import { ScheduleTicks } from './tick-store.ts';
import { WorkflowSchedule } from './workflow-schedule.ts';

const YAML = `
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
workflows:
  nightly:
    name: Nightly
    schedule: ["0 2 * * *", "@hourly"]
    steps: [{ type: discover, service: qaagent }]
  guarded:
    name: One at a time
    schedule: ["* * * * *"]
    concurrency: { limit: 1, on_conflict: reject }
    steps: [{ type: discover, service: qaagent }]
`;

/** Two contexts on one database file, each with its own connection: two processes, as far as SQLite knows. */
function twoProcesses() {
  const env = { AEGIS_DB_PATH: join(tempDir(), 'shared.db') };
  return [testContext(YAML, env), testContext(YAML, env)] as const;
}

async function firing(context: ReturnType<typeof testContext>['context']) {
  return {
    runs: await context.runs(),
    db: (await context.stores()).db,
    logger: context.logger,
  };
}

async function scheduleRuns(context: ReturnType<typeof testContext>['context']) {
  const { db } = await context.stores();
  const result = await db.execute(
    `SELECT r.run_id, r.workflow_name, r.trigger, t.tick_at, t.cron FROM runs AS r
       LEFT JOIN schedule_ticks AS t ON t.run_id = r.run_id ORDER BY r.seq`,
  );
  return result.rows.map((row) => ({ ...row }));
}

describe('schedule ticks in the database', () => {
  it('queues one run for a tick that two processes fire at once, and both know its id', async () => {
    const [a, b] = twoProcesses();
    const tick = { at: Date.parse('2025-01-01T02:00:00Z'), cron: '0 2 * * *' };

    const outcomes = await Promise.all([
      fireTick(await firing(a.context), 'nightly', tick),
      fireTick(await firing(b.context), 'nightly', tick),
    ]);

    expect(outcomes.map((o) => o.kind).sort()).toEqual(['queued', 'taken']);
    const [first, second] = outcomes as [{ runId: string }, { runId: string }];
    expect(first.runId).toBe(second.runId);
    expect(await scheduleRuns(a.context)).toEqual([
      {
        run_id: first.runId,
        workflow_name: 'nightly',
        trigger: 'schedule',
        tick_at: tick.at,
        cron: '0 2 * * *',
      },
    ]);
  });

  it('passes a tick the concurrency rule refuses, leaving no claim and no run', async () => {
    const { context } = testContext(YAML);
    const stores = await context.stores();
    const running = await queueRun(stores, 'guarded');
    const tick = { at: Date.parse('2025-01-01T02:00:00Z'), cron: '* * * * *' };

    const outcome = await fireTick(await firing(context), 'guarded', tick);

    expect(outcome).toMatchObject({ kind: 'refused', message: expect.stringContaining('reject') });
    expect((await scheduleRuns(context)).map((r) => r.run_id)).toEqual([running]);
    expect(await new ScheduleTicks(stores.db).lastTickAt('guarded')).toBeNull();
  });

  it('prunes ticks older than a day but keeps the newest of each expression, which GET /api/schedules shows', async () => {
    const { context } = testContext(YAML);
    const options = await firing(context);
    const day = 24 * 60 * 60 * 1000;
    const t0 = Date.parse('2025-01-01T02:00:00Z');
    const daily = await fireTick(options, 'nightly', { at: t0, cron: '0 2 * * *' });
    await fireTick(options, 'nightly', { at: t0 + 3_600_000, cron: '@hourly' });
    await fireTick(options, 'nightly', { at: t0 + day + 60_000, cron: '@hourly' });
    // Two days on: the first hourly tick is pruned; the daily one is still its expression's newest.
    const hourly = await fireTick(options, 'nightly', { at: t0 + 2 * day, cron: '@hourly' });

    const ticks = (await scheduleRuns(context)).filter((r) => r.tick_at !== null);
    expect(ticks.map((r) => [r.cron, Number(r.tick_at) - t0])).toEqual([
      ['0 2 * * *', 0],
      ['@hourly', day + 60_000],
      ['@hourly', 2 * day],
    ]);
    const listed = await listSchedules(context.config, options.db, t0 + 2 * day + 1);
    expect(listed.filter((s) => s.workflow === 'nightly')).toEqual([
      {
        workflow: 'nightly',
        cron: '0 2 * * *',
        timezone: 'UTC',
        next_run_at: '2025-01-04T02:00:00.000Z',
        last_run_id: (daily as { runId: string }).runId,
      },
      {
        workflow: 'nightly',
        cron: '@hourly',
        timezone: 'UTC',
        next_run_at: '2025-01-03T03:00:00.000Z',
        last_run_id: (hourly as { runId: string }).runId,
      },
    ]);
  });

  describe('fireDueTicks (the Lambda drain)', () => {
    const everyMinute = new WorkflowSchedule('nightly', {
      schedule: ['* * * * *'],
      timezone: 'UTC',
      catch_up: false,
    });
    const minute = 60_000;
    const t0 = Date.parse('2025-01-01T02:00:00Z');

    async function drainAt(
      context: ReturnType<typeof testContext>['context'],
      schedule: WorkflowSchedule,
      now: number,
    ) {
      const outcomes = await fireDueTicks({
        ...(await firing(context)),
        schedules: [schedule],
        windowMs: 2 * minute,
        now,
      });
      return outcomes.map((o) => o.kind);
    }

    it('fires the latest due tick once, however many drains see it', async () => {
      const { context } = testContext(YAML);
      expect(await drainAt(context, everyMinute, t0 + 30_000)).toEqual(['queued']);
      expect(await drainAt(context, everyMinute, t0 + 50_000)).toEqual([]);
      expect(await drainAt(context, everyMinute, t0 + minute + 5_000)).toEqual(['queued']);
      const ticks = (await scheduleRuns(context)).map((r) => Number(r.tick_at) - t0);
      expect(ticks).toEqual([0, minute]);
    });

    it('skips ticks missed while no drain ran, unless catch_up: one run for the latest of them', async () => {
      const hourly = (catchUp: boolean) =>
        new WorkflowSchedule('nightly', {
          schedule: ['@hourly'],
          timezone: 'UTC',
          catch_up: catchUp,
        });
      const { context } = testContext(YAML);
      expect(await drainAt(context, hourly(false), t0 + 1_000)).toEqual(['queued']);
      // Three and a half hours without a drain: the ticks of 03:00, 04:00 and 05:00 were missed.
      expect(await drainAt(context, hourly(false), t0 + 210 * minute)).toEqual([]);
      expect(await drainAt(context, hourly(true), t0 + 210 * minute)).toEqual(['queued']);
      expect(await drainAt(context, hourly(true), t0 + 211 * minute)).toEqual([]);
      const ticks = (await scheduleRuns(context)).map((r) => (Number(r.tick_at) - t0) / minute);
      expect(ticks).toEqual([0, 180]);
    });

    it('fires nothing without catch_up when the latest tick is older than the window', async () => {
      const { context } = testContext(YAML);
      const hourly = new WorkflowSchedule('nightly', {
        schedule: ['@hourly'],
        timezone: 'UTC',
        catch_up: false,
      });
      expect(await drainAt(context, hourly, t0 + 30 * minute)).toEqual([]);
      expect(await scheduleRuns(context)).toEqual([]);
    });
  });
});
