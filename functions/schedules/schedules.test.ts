import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import type { ScheduleListing } from '#shared/schedules/listing.ts';
import { runAegisInProcess } from '#test/support/cli-process.ts';
import { testContext } from '#test/support/context.ts';
import { eventually, startTestHost } from '#test/support/host.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';
import { FUNCTIONS } from '../index.ts';
import { drainOnSchedule } from '../webhooks/scheduled-drain.ts';

let qa: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
});
afterAll(() => qa.close());

const CONFIG = () => `
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  pulse:
    name: Every second
    schedule: ["* * * * * *"]
    steps: [{ type: discover, service: qaagent }]
  nightly:
    name: Nightly
    schedule: ["0 2 * * *", "@weekly"]
    timezone: America/New_York
    steps: [{ type: discover, service: qaagent }]
  manual:
    name: Started by hand
    steps: [{ type: discover, service: qaagent }]
`;

/** The wall-clock time of an instant in a zone: `Sun 00:00:00`. */
function wallClock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  })
    .format(new Date(iso))
    .replace(',', '');
}

describe('GET /api/schedules', () => {
  it('lists each expression with its zone and next tick, and the run of its last tick once a host queued one', async () => {
    const host = await startTestHost(CONFIG());
    const now = Date.now();

    const listed = (await (await fetch(`${host.url}/api/schedules`)).json()) as ScheduleListing[];

    expect(listed.map((s) => [s.workflow, s.cron, s.timezone])).toEqual([
      ['pulse', '* * * * * *', 'UTC'],
      ['nightly', '0 2 * * *', 'America/New_York'],
      ['nightly', '@weekly', 'America/New_York'],
    ]);
    const [pulse, daily, weekly] = listed as [ScheduleListing, ScheduleListing, ScheduleListing];
    const ahead = (s: ScheduleListing) => Date.parse(s.next_run_at as string) - now;
    expect(ahead(pulse)).toBeGreaterThan(0);
    expect(ahead(pulse)).toBeLessThanOrEqual(1_000);
    expect(wallClock(daily.next_run_at as string, 'America/New_York')).toMatch(/^\w{3} 02:00:00$/);
    expect(ahead(daily)).toBeLessThanOrEqual(25 * 3_600_000);
    expect(wallClock(weekly.next_run_at as string, 'America/New_York')).toBe('Sun 00:00:00');
    expect(ahead(weekly)).toBeLessThanOrEqual(7 * 24 * 3_600_000 + 3_600_000);
    expect(daily.last_run_id).toBeNull();

    // The host's scheduler queues pulse's ticks: the listing points at the latest run.
    const lastRunId = await eventually(async () => {
      const answer = (await (await fetch(`${host.url}/api/schedules`)).json()) as ScheduleListing[];
      return answer[0]?.last_run_id ?? undefined;
    }, 5_000);
    const run = (await (await fetch(`${host.url}/api/runs/${lastRunId}`)).json()) as {
      trigger: string;
      workflow_name: string;
    };
    expect(run).toMatchObject({ trigger: 'schedule', workflow_name: 'pulse' });
  });

  it('answers [] without a database when no workflow has a schedule', async () => {
    const { context } = testContext(`workflows: { manual: { name: Manual } }\n`, {
      AEGIS_DB_PATH: '/dev/null/nowhere.db',
    });
    const answer = await invokeHandler(createApiHandler(context, FUNCTIONS.schedules), {
      path: '/api/schedules',
    });
    expect(answer).toMatchObject({ status: 200, json: [] });
  });
});

describe('the scheduled drain on Lambda', () => {
  it('queues the due tick and executes its run in the same invocation; the next invocation in that second adds none', async () => {
    const { context } = testContext(CONFIG(), { AEGIS_RUN_WORKERS: '1' });

    const first = await drainOnSchedule(context, { getRemainingTimeInMillis: () => 31_000 });
    const second = await drainOnSchedule(context, { getRemainingTimeInMillis: () => 31_000 });

    expect(first.schedules.queued).toBe(1);
    expect(first.runs.executed).toBe(1);
    const { history } = await context.stores();
    const [run] = await history.listRuns({ workflow: 'pulse', limit: 10 });
    expect(run).toMatchObject({ trigger: 'schedule', status: 'completed', success: true });
    // A second later at most there is a new tick: never a second run for the same one.
    const runs = await history.listRuns({ workflow: 'pulse', limit: 10 });
    expect(runs).toHaveLength(1 + second.schedules.queued);
    expect(new Set(runs.map((r) => r.run_id)).size).toBe(runs.length);
  });
});

describe('aegis schedules', () => {
  it('prints a table of every expression, and the same as the API with --json', async () => {
    const dir = tempDir();
    writeConfig(CONFIG(), dir);

    const table = await runAegisInProcess(['schedules'], { cwd: dir });
    const json = await runAegisInProcess(['schedules', '--json'], { cwd: dir });

    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WORKFLOW\s+CRON\s+TIMEZONE\s+NEXT RUN\s+LAST RUN$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['pulse', '* * * * * *', 'UTC'],
      ['nightly', '0 2 * * *', 'America/New_York'],
      ['nightly', '@weekly', 'America/New_York'],
    ]);
    expect(lines[1]).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(in \d+ ms\)\s+-$/);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as ScheduleListing[];
    expect(listed).toHaveLength(3);
    expect(listed[2]).toEqual({
      workflow: 'nightly',
      cron: '@weekly',
      timezone: 'America/New_York',
      next_run_at: expect.stringMatching(/Z$/),
      last_run_id: null,
    });
  });

  it('says how to add one when no workflow has a schedule', async () => {
    const dir = tempDir();
    const path = writeConfig('workflows: { manual: { name: Manual } }\n', dir);
    const result = await runAegisInProcess(['schedules'], { cwd: dir });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      `No workflow has a schedule: add \`schedule: ["0 2 * * *"]\` to one in ${path}.\n`,
    );
    expect((await runAegisInProcess(['schedules', '--json'], { cwd: dir })).stdout).toBe('[]\n');
    // Nothing to read, so no database was made.
    expect(readdirSync(dir)).toEqual(['.aegis.yaml']);
  });
});
