import { describe, expect, it } from 'vitest';
import type { AegisContext } from '#shared/context.ts';
import { fireTick } from '#shared/schedules/fire.ts';
import { schedulesOf } from '#shared/schedules/workflow-schedule.ts';
import { testContext } from '#test/support/context.ts';
import { eventually } from '#test/support/host.ts';
import { Scheduler } from './scheduler.ts';

const HOUR = 3_600_000;

function config(catchUp: boolean, schedule = '@hourly') {
  return `
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
workflows:
  nightly:
    name: Nightly
    schedule: ["${schedule}"]
    catch_up: ${catchUp}
    steps: [{ type: discover, service: qaagent }]
`;
}

async function schedulerFor(context: AegisContext, now?: () => number) {
  return new Scheduler({
    schedules: schedulesOf(context.config),
    runs: await context.runs(),
    db: (await context.stores()).db,
    logger: context.logger,
    ...(now ? { now } : {}),
  });
}

/** The ticks claimed so far, as hours before the latest whole hour. */
async function tickHours(context: AegisContext, latestHour: number): Promise<number[]> {
  const { db } = await context.stores();
  const result = await db.execute(
    `SELECT t.tick_at, r.trigger FROM schedule_ticks AS t JOIN runs AS r ON r.run_id = t.run_id ORDER BY t.tick_at`,
  );
  for (const row of result.rows) expect(row.trigger).toBe('schedule');
  return result.rows.map((row) => (latestHour - Number(row.tick_at)) / HOUR);
}

describe('Scheduler: ticks missed while no host ran', () => {
  const latestHour = Math.floor(Date.now() / HOUR) * HOUR;
  // The hosts' clock stays inside that hour, so a test running across an hour's turn still sees it as the latest.
  const midHour = () => latestHour + HOUR / 2;
  /** A host that last ran three hours ago claimed the tick of that hour. */
  async function lastRanThreeHoursAgo(catchUp: boolean) {
    const { context } = testContext(config(catchUp));
    await fireTick(
      { runs: await context.runs(), db: (await context.stores()).db, logger: context.logger },
      'nightly',
      { at: latestHour - 3 * HOUR, cron: '@hourly' },
    );
    return context;
  }

  it('are skipped by default', async () => {
    const context = await lastRanThreeHoursAgo(false);
    const scheduler = await schedulerFor(context, midHour);
    await scheduler.start();
    await scheduler.stop();
    expect(await tickHours(context, latestHour)).toEqual([3]);
  });

  it('get one run, for the latest of them, with catch_up: true', async () => {
    const context = await lastRanThreeHoursAgo(true);
    const scheduler = await schedulerFor(context, midHour);
    await scheduler.start();
    await scheduler.stop();
    expect(await tickHours(context, latestHour)).toEqual([3, 0]);
    // A second host starting now finds that tick claimed: still one run for it.
    const again = await schedulerFor(context, midHour);
    await again.start();
    await again.stop();
    expect(await tickHours(context, latestHour)).toEqual([3, 0]);
  });

  it('are not invented for a schedule that never ticked before, even with catch_up', async () => {
    const { context } = testContext(config(true));
    const scheduler = await schedulerFor(context, midHour);
    await scheduler.start();
    await scheduler.stop();
    expect(await tickHours(context, latestHour)).toEqual([]);
  });
});

describe('Scheduler: on time', () => {
  it('queues each tick as its instant comes, on a clock that is moved past several ticks at once', async () => {
    // A clock 10 s behind the real one for the first wake, then jumped 5 s forward: */2 s ticks.
    const { context } = testContext(config(false, '*/2 * * * * *'));
    let offset = 0;
    const scheduler = await schedulerFor(context, () => Date.now() + offset);
    const started = Date.now();
    await scheduler.start();
    await eventually(
      async () => ((await tickHours(context, 0)).length >= 1 ? true : undefined),
      5_000,
      'the first tick',
    );
    offset = 5_000;
    await eventually(
      async () => ((await tickHours(context, 0)).length >= 2 ? true : undefined),
      5_000,
      'the tick after the jump',
    );
    await scheduler.stop();
    const { db } = await context.stores();
    const rows = (
      await db.execute('SELECT tick_at, claimed_at FROM schedule_ticks ORDER BY tick_at')
    ).rows.map((row) => ({ tick: Number(row.tick_at), claimed: Number(row.claimed_at) }));
    const [first, second] = rows as [
      { tick: number; claimed: number },
      { tick: number; claimed: number },
    ];
    // The first tick came within a second of its instant (and not before it).
    expect(first.tick % 2_000).toBe(0);
    expect(first.tick).toBeGreaterThan(started - 2_000);
    expect(first.claimed - first.tick).toBeGreaterThanOrEqual(0);
    expect(first.claimed - first.tick).toBeLessThan(1_000);
    // The jump skipped ticks: one run for the latest of them, not one per tick skipped.
    expect(second.tick - first.tick).toBeGreaterThanOrEqual(4_000);
    expect(rows.length).toBeLessThanOrEqual(3);
  });
});
