import type { Command } from 'commander';
import { findWorkflow } from '#shared/config/lookup.ts';
import { readEnv } from '#shared/env.ts';
import { redactUrl } from '#shared/redact.ts';
import type { RunObserver } from '#shared/workflow/run-workflow.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { paintFor } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandContext, loadForCommand } from './common.ts';
import { DEFAULT_HOST_URL, followEvents } from './event-follow.ts';
import { API_KEY_VARIABLE, eventPrinter, untilInterrupted } from './events.ts';
import { describeStep, exitCodeOf, hasTestFailures, verdictLine } from './run-output.ts';
import { sendOwnDeliveries } from './run-webhooks.ts';

interface RunOptions extends ConfigOption {
  json?: boolean;
  failOnTestFailures?: boolean;
  async?: boolean;
  follow?: boolean;
  url?: string;
}

export async function runCommand(
  io: CliIO,
  workflowKey: string,
  options: RunOptions,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const loaded = loadForCommand(io, options.config);
  const context = commandContext(io, loaded);
  try {
    const paint = paintFor(io.stdout, io.env);
    const workflow = findWorkflow(loaded.config, workflowKey);
    const runs = await context.runs(); // an unwritable history path fails here, before anything runs
    const { runId } = await runs.start(workflowKey, { trigger: 'cli' });
    if (options.async && options.follow) return await followQueuedRun(io, runId, options, signals);
    if (options.async) {
      const url = `/api/runs/${runId}`;
      io.stdout.write(
        options.json
          ? `${JSON.stringify({ run_id: runId, status: 'queued', url }, null, 2)}\n`
          : `${runId}\n`,
      );
      return EXIT.ok;
    }
    if (!options.json) {
      const count = workflow.steps.length;
      io.stdout.write(
        `${paint.bold(`Running ${workflowKey}`)} ${paint.dim(`(${workflow.name}, ${count} step${count === 1 ? '' : 's'}, run ${runId})`)}\n`,
      );
    }
    const result = await runs.execute(runId, progressObservers(io, options, paint));
    const failedOnTests = options.failOnTestFailures === true && hasTestFailures(result.steps);
    if (options.json && !options.follow) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (!options.json) io.stdout.write(`${verdictLine(result, paint, failedOnTests)}\n`);
    await sendOwnDeliveries(io, context, result.run_id, { quiet: options.json === true });
    return exitCodeOf(result, options.failOnTestFailures);
  } finally {
    await context.close();
  }
}

/** What the run prints as it goes: step lines, or with --follow its events (executed here, so heard in-process, at once). */
function progressObservers(
  io: CliIO,
  options: RunOptions,
  paint: ReturnType<typeof paintFor>,
): RunObserver[] {
  if (options.follow) {
    const print = eventPrinter(io, options.json === true);
    return [{ event: (event) => print(event) }];
  }
  if (options.json) return [];
  return [
    {
      stepFinished: (i: number, s: StepResult) =>
        void io.stdout.write(`${describeStep(i, s, paint)}\n`),
    },
  ];
}

/**
 * `--async --follow`: the run was queued for a host; its events are followed
 * on that host's stream (replayed from the start of the log, so none is
 * missed) until it ends. Exit as `aegis run` would.
 */
async function followQueuedRun(
  io: CliIO,
  runId: string,
  options: RunOptions,
  signals: NodeJS.EventEmitter,
): Promise<number> {
  const baseUrl = options.url ?? DEFAULT_HOST_URL;
  io.stderr.write(
    `queued run ${runId}; following it on ${redactUrl(baseUrl)} (Ctrl-C stops following, not the run)\n`,
  );
  const print = eventPrinter(io, options.json === true);
  const interrupted = untilInterrupted(signals);
  let succeeded: boolean | undefined;
  try {
    await followEvents({
      baseUrl,
      query: { run_id: runId, after: '0' },
      apiKey: readEnv(io.env, API_KEY_VARIABLE),
      io,
      signal: interrupted.signal,
      onEvent: (event) => {
        print(event);
        if (event.event_type === 'workflow.completed') succeeded = event.data.success === true;
        else if (event.event_type === 'workflow.cancelled') succeeded = false;
        return succeeded !== undefined;
      },
    });
  } finally {
    interrupted.release();
  }
  if (succeeded === undefined)
    io.stderr.write(`stopped following run ${runId}, which goes on: aegis runs wait ${runId}\n`);
  return succeeded ? EXIT.ok : EXIT.failure;
}

export function registerRun(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('run a workflow, print each step, record it in the history and send its webhooks')
    .argument('<workflow>', 'the workflow key from .aegis.yaml')
    .option(
      '--config <file>',
      'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml)',
    )
    .option('--json', 'print the run result as JSON on stdout instead of the step lines')
    .option(
      '--fail-on-test-failures',
      'exit 1 when a test or verify step reported failing tests, even if the run succeeded',
    )
    .option(
      '--async',
      'only queue the run and print its id (with --json: {run_id, status, url}); a host (aegis serve) executes it',
    )
    .option(
      '--follow',
      "print the run's events as they happen instead of the step lines (with --json: one JSON object per event)",
    )
    .option(
      '--url <url>',
      `with --async --follow: the host whose event stream to follow (default: ${DEFAULT_HOST_URL})`,
    )
    .addHelpText(
      'after',
      `
The run is queued (trigger: cli) and executed by this process, as soon as the
workflow's concurrency limit allows. Follow a queued run with \`aegis runs wait <id>\`.

With --follow, the run still executes here and each of its events is printed
the moment it happens (with --json, one JSON object per line, as webhooks
receive it, and no result object). With --async --follow, the run is queued for a host sharing
the database and its events are followed on that host's stream (--url) until
the run ends; the exit status is the run's.

Exit status: 0 when the run succeeded, 1 when a step failed, the run was
cancelled, or the workflow is unknown (or refused by its concurrency limit).`,
    )
    .action(async (workflow: string, options: RunOptions) =>
      setExit(await runCommand(io, workflow, options)),
    );
}
