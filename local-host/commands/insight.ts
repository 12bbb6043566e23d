import type { Command } from 'commander';
import { findWorkflow } from '#shared/config/lookup.ts';
import {
  MAX_DAYS,
  MAX_WINDOW,
  type TestInsight,
  type WorkflowStats,
} from '#shared/insight/insight-store.ts';
import { formatDuration, paintFor, table } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, withContext } from './common.ts';
import { wholeNumber } from './options.ts';

interface TestsOptions extends ConfigOption {
  flaky?: boolean;
  window?: string;
  limit?: string;
  json?: boolean;
}

interface StatsOptions extends ConfigOption {
  days?: string;
  json?: boolean;
}

/** A whole-number option within bounds, or an error naming it. */
const percent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)} %`);

function testRows(tests: readonly TestInsight[]): string[][] {
  return tests.map((t) => [
    t.test,
    t.flaky ? 'flaky' : '',
    `${t.failures}`,
    `${t.passes}`,
    `${t.flips}`,
    percent(t.failure_rate),
    t.last_failed_at === null ? '-' : `${t.last_failed_at} (${t.last_failed_run_id})`,
  ]);
}

async function testsCommand(io: CliIO, workflow: string, options: TestsOptions): Promise<number> {
  const window = wholeNumber('--window', options.window, { min: 1, max: MAX_WINDOW, fallback: 50 });
  const limit = wholeNumber('--limit', options.limit, { min: 1, max: 1000, fallback: 50 });
  return withContext(io, options, async (context) => {
    findWorkflow(context.config, workflow);
    const tests = await (await context.stores()).insight.tests(workflow, {
      window,
      flaky: options.flaky ? true : undefined,
      limit,
      offset: 0,
    });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(tests, null, 2)}\n`);
      return EXIT.ok;
    }
    const which = options.flaky ? 'flaky tests' : 'tests';
    if (tests.length === 0) {
      io.stdout.write(`No ${which} recorded in the last ${window} runs of ${workflow}.\n`);
      return EXIT.ok;
    }
    const paint = paintFor(io.stdout, io.env);
    const flaky = tests.filter((t) => t.flaky).length;
    io.stdout.write(
      `${paint.bold(`${workflow}: ${tests.length} ${which}`)} over its last ${window} runs with tests${options.flaky ? '' : `, ${flaky} flaky`}${tests.length === limit ? ` (the first ${limit}: --limit shows more)` : ''}\n`,
    );
    io.stdout.write(
      `${table(['TEST', 'FLAKY', 'FAILED', 'PASSED', 'FLIPS', 'FAILURE RATE', 'LAST FAILED (RUN)'], testRows(tests))}\n`,
    );
    return EXIT.ok;
  });
}

function printStats(io: CliIO, workflow: string, stats: WorkflowStats): void {
  const paint = paintFor(io.stdout, io.env);
  const ms = (value: number | null) => (value === null ? '-' : formatDuration(value));
  const lines = [
    paint.bold(`${workflow}: the last ${stats.days} days (UTC, since ${stats.since})`),
    `  runs:          ${stats.runs} (${stats.succeeded} succeeded, ${stats.failed} failed, ${stats.cancelled} cancelled, ${stats.interrupted} interrupted)`,
    `  success rate:  ${percent(stats.success_rate)} of the completed runs`,
    `  duration:      p50 ${ms(stats.duration_ms.p50)}, p95 ${ms(stats.duration_ms.p95)}`,
    `  tests:         ${stats.tests.total} counted, ${stats.tests.failed} failed (${percent(stats.tests.failed_rate)})`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  const days = stats.by_day.filter((day) => day.runs > 0);
  if (days.length === 0) return;
  const rows = days.map((day) => [
    day.date,
    `${day.runs}`,
    `${day.succeeded}`,
    `${day.failed}`,
    ms(day.p50_ms),
  ]);
  io.stdout.write(`\n${table(['DATE', 'RUNS', 'SUCCEEDED', 'FAILED', 'P50'], rows)}\n`);
}

async function statsCommand(io: CliIO, workflow: string, options: StatsOptions): Promise<number> {
  const days = wholeNumber('--days', options.days, { min: 1, max: MAX_DAYS, fallback: 30 });
  return withContext(io, options, async (context) => {
    findWorkflow(context.config, workflow);
    const stats = await (await context.stores()).insight.stats(workflow, { days });
    if (options.json) io.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    else printStats(io, workflow, stats);
    return EXIT.ok;
  });
}

const CONFIG_HELP = 'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml)';

/** `aegis tests` and `aegis stats` (SPEC §14): on the database directly, so they need no host. */
export function registerInsight(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  program
    .command('tests')
    .description(
      "a workflow's tests over its last runs: failures, passes, flips, the flaky ones first",
    )
    .argument('<workflow>')
    .option('--flaky', 'only the flaky tests')
    .option('--window <n>', `how many of its newest runs with tests (1..${MAX_WINDOW}, default 50)`)
    .option('--limit <n>', 'how many tests to show (1..1000, default 50)')
    .option('--json', 'print the tests as JSON (as GET /api/workflows/{name}/tests)')
    .option('--config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      '\nA test is flaky when it both passed and failed with at least 2 flips, or when it failed in a\ntest step and passed in a later verify step of the same run with no submit_bugs step between.',
    )
    .action(async (workflow: string, options: TestsOptions) =>
      setExit(await testsCommand(io, workflow, options)),
    );
  program
    .command('stats')
    .description("a workflow's trends: runs by outcome, durations and failed tests, per UTC day")
    .argument('<workflow>')
    .option('--days <n>', `how many UTC days, today included (1..${MAX_DAYS}, default 30)`)
    .option('--json', 'print the trends as JSON (as GET /api/workflows/{name}/stats)')
    .option('--config <file>', CONFIG_HELP)
    .action(async (workflow: string, options: StatsOptions) =>
      setExit(await statsCommand(io, workflow, options)),
    );
}
