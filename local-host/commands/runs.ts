import type { Command } from 'commander';
import { findWorkflow } from '#shared/config/lookup.ts';
import { NotFoundError } from '#shared/errors.ts';
import type { HistoryRecordDetail } from '#shared/history/history-store.ts';
import { RUN_STATUSES } from '#shared/runs/run-queue.ts';
import { runResultOf } from '#shared/runs/run-service.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { formatDuration, paintFor, table } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, withContext } from './common.ts';
import { oneOf, secondsAsMs, wholeNumber } from './options.ts';
import { describeStep, exitCodeOf, statusLabel, verdictLine } from './run-output.ts';
import { sendOwnDeliveries } from './run-webhooks.ts';

interface ListOptions extends ConfigOption {
  workflow?: string;
  status?: string;
  limit?: string;
  json?: boolean;
}

async function listCommand(io: CliIO, options: ListOptions): Promise<number> {
  const limit = wholeNumber('--limit', options.limit, { min: 1, max: 1000, fallback: 20 });
  const status = oneOf('--status', options.status, RUN_STATUSES);
  return withContext(io, options, async (context) => {
    if (options.workflow !== undefined) findWorkflow(context.config, options.workflow);
    const { history } = await context.stores();
    const runs = await history.listRuns({ workflow: options.workflow, status, limit });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return EXIT.ok;
    }
    if (runs.length === 0) {
      io.stdout.write('No runs recorded yet.\n');
      return EXIT.ok;
    }
    const rows = runs.map((run) => [
      run.run_id,
      run.workflow_name,
      statusLabel(run),
      run.trigger,
      run.started_at ?? `queued ${run.queued_at}`,
      run.duration_ms === null ? '' : formatDuration(run.duration_ms),
      `${run.step_count}`,
      run.tests === null ? '' : `${run.tests.passed}/${run.tests.total} passed`,
    ]);
    io.stdout.write(
      `${table(['RUN', 'WORKFLOW', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION', 'STEPS', 'TESTS'], rows)}\n`,
    );
    return EXIT.ok;
  });
}

function printRun(io: CliIO, run: HistoryRecordDetail): void {
  const paint = paintFor(io.stdout, io.env);
  const lines = [
    `${paint.bold(`Run ${run.run_id}`)} ${paint.dim(`(${run.workflow_name})`)}`,
    `  status:       ${statusLabel(run)}${run.reason ? ` (${run.reason})` : ''}`,
    `  trigger:      ${run.trigger}${run.triggered_by ? ` by ${run.triggered_by}` : ''}`,
    ...(run.parent_run_id ? [`  rerun of:     ${run.parent_run_id}`] : []),
    `  queued at:    ${run.queued_at}`,
    `  started at:   ${run.started_at ?? '-'}`,
    `  completed at: ${run.completed_at ?? '-'}`,
    ...(run.duration_ms === null ? [] : [`  duration:     ${formatDuration(run.duration_ms)}`]),
    ...(run.trace_id ? [`  trace id:     ${run.trace_id}`] : []),
    `  steps:        ${run.step_count}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  for (const [index, step] of runResultOf(run).steps.entries())
    io.stdout.write(`${describeStep(index, step, paint)}\n`);
}

async function showCommand(
  io: CliIO,
  runId: string,
  options: ConfigOption & { json?: boolean },
): Promise<number> {
  return withContext(io, options, async (context) => {
    const run = await (await context.stores()).history.getRun(runId);
    if (!run) throw new NotFoundError(`no run with id "${runId}"`);
    if (options.json) io.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    else printRun(io, run);
    return EXIT.ok;
  });
}

async function cancelCommand(io: CliIO, runId: string, options: ConfigOption): Promise<number> {
  return withContext(io, options, async (context) => {
    const outcome = await (await context.runs()).cancel(runId, 'cancelled from the CLI');
    switch (outcome.kind) {
      case 'missing':
        throw new NotFoundError(`no run with id "${runId}"`);
      case 'ended':
        io.stderr.write(`aegis: run ${runId} has already ended (${outcome.status})\n`);
        return EXIT.failure;
      case 'cancelled':
        io.stdout.write(`cancelled run ${runId} (it was still queued)\n`);
        return EXIT.ok;
      case 'requested':
        io.stdout.write(
          `asked run ${runId} to stop: its in-flight requests are aborted within a second, wherever it runs\n`,
        );
        return EXIT.ok;
    }
  });
}

async function rerunCommand(
  io: CliIO,
  runId: string,
  options: ConfigOption & { from?: string; async?: boolean; json?: boolean },
): Promise<number> {
  const from = oneOf('--from', options.from, ['failed', 'start'] as const) ?? 'failed';
  return withContext(io, options, async (context) => {
    const runs = await context.runs();
    const { runId: rerunId } = await runs.rerun(runId, from);
    if (options.async) {
      const url = `/api/runs/${rerunId}`;
      io.stdout.write(
        options.json
          ? `${JSON.stringify({ run_id: rerunId, status: 'queued', url }, null, 2)}\n`
          : `${rerunId}\n`,
      );
      return EXIT.ok;
    }
    const paint = paintFor(io.stdout, io.env);
    if (!options.json)
      io.stdout.write(`${paint.bold(`Rerunning ${runId} from ${from} as ${rerunId}`)}\n`);
    const progress = options.json
      ? []
      : [
          {
            stepFinished: (i: number, s: StepResult) =>
              void io.stdout.write(`${describeStep(i, s, paint)}\n`),
          },
        ];
    const result = await runs.execute(rerunId, progress);
    if (options.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else io.stdout.write(`${verdictLine(result, paint)}\n`);
    await sendOwnDeliveries(io, context, result.run_id, { quiet: options.json === true });
    return exitCodeOf(result);
  });
}

async function waitCommand(
  io: CliIO,
  runId: string,
  options: ConfigOption & { timeout?: string; json?: boolean },
): Promise<number> {
  const timeoutS = secondsAsMs('--timeout', options.timeout, 3_600_000) / 1000;
  return withContext(io, options, async (context) => {
    const ended = await (await context.runs()).waitForEnd(runId, timeoutS * 1000);
    if (!ended) {
      const status = await (await context.stores()).history.statusOf(runId);
      io.stderr.write(`aegis: run ${runId} is still ${status} after ${timeoutS} s\n`);
      return EXIT.failure;
    }
    const result = runResultOf(ended.record);
    if (options.json) io.stdout.write(`${JSON.stringify(ended.record, null, 2)}\n`);
    else io.stdout.write(`${verdictLine(result, paintFor(io.stdout, io.env))}\n`);
    return exitCodeOf(result);
  });
}

const CONFIG_HELP = 'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml)';

export function registerRuns(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const runs = program
    .command('runs')
    .description(
      'list, show, cancel, rerun or wait for runs (on the database directly: no host needed)',
    );
  runs
    .command('list')
    .description('the newest runs, newest first')
    .option('--workflow <key>', 'only this workflow')
    .option('--status <status>', `only runs in this state (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'how many (1..1000, default 20)')
    .option('--json', 'print the history records as JSON')
    .option('--config <file>', CONFIG_HELP)
    .action(async (options: ListOptions) => setExit(await listCommand(io, options)));
  runs
    .command('show')
    .description('one run: its status, trigger, times and every step')
    .argument('<run-id>')
    .option('--json', 'print the history record as JSON (steps with data and attempts)')
    .option('--config <file>', CONFIG_HELP)
    .action(async (runId: string, options: ConfigOption & { json?: boolean }) =>
      setExit(await showCommand(io, runId, options)),
    );
  runs
    .command('cancel')
    .description('cancel a run: at once when queued; a running one stops within a second')
    .argument('<run-id>')
    .option('--config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      '\nExit status: 0 when cancelled or asked to stop, 1 when it has already ended.',
    )
    .action(async (runId: string, options: ConfigOption) =>
      setExit(await cancelCommand(io, runId, options)),
    );
  runs
    .command('rerun')
    .description(
      'rerun an ended run here, from its first failed step (reusing the steps before) or from the start',
    )
    .argument('<run-id>')
    .option('--from <where>', 'failed (default) or start')
    .option('--async', 'only queue the rerun and print its id; a host executes it')
    .option('--json', 'print the result (or, with --async, {run_id, status, url}) as JSON')
    .option('--config <file>', CONFIG_HELP)
    .addHelpText('after', '\nExit status: as `aegis run`: 0 when the rerun succeeded, 1 otherwise.')
    .action(
      async (
        runId: string,
        options: ConfigOption & { from?: string; async?: boolean; json?: boolean },
      ) => setExit(await rerunCommand(io, runId, options)),
    );
  runs
    .command('wait')
    .description('wait for a run to end, and exit as `aegis run` would')
    .argument('<run-id>')
    .option('--timeout <seconds>', 'give up after this long (default 3600)')
    .option('--json', 'print the history record as JSON')
    .option('--config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      '\nExit status: 0 when the run succeeded; 1 when it failed, was cancelled or interrupted, or is still going at the timeout.',
    )
    .action(async (runId: string, options: ConfigOption & { timeout?: string; json?: boolean }) =>
      setExit(await waitCommand(io, runId, options)),
    );
}
