import type { Command } from 'commander';
import { findWorkflow } from '#shared/config/lookup.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { paintFor } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandContext, loadForCommand } from './common.ts';
import { describeStep, exitCodeOf, hasTestFailures, verdictLine } from './run-output.ts';
import { sendOwnDeliveries } from './run-webhooks.ts';

interface RunOptions extends ConfigOption {
  json?: boolean;
  failOnTestFailures?: boolean;
  async?: boolean;
}

export async function runCommand(
  io: CliIO,
  workflowKey: string,
  options: RunOptions,
): Promise<number> {
  const loaded = loadForCommand(io, options.config);
  const context = commandContext(io, loaded);
  try {
    const paint = paintFor(io.stdout, io.env);
    const workflow = findWorkflow(loaded.config, workflowKey);
    const runs = await context.runs(); // an unwritable history path fails here, before anything runs
    const { runId } = await runs.start(workflowKey, { trigger: 'cli' });
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
    const progress = options.json
      ? []
      : [
          {
            stepFinished: (i: number, s: StepResult) =>
              void io.stdout.write(`${describeStep(i, s, paint)}\n`),
          },
        ];
    const result = await runs.execute(runId, progress);
    const failedOnTests = options.failOnTestFailures === true && hasTestFailures(result.steps);
    if (options.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else io.stdout.write(`${verdictLine(result, paint, failedOnTests)}\n`);
    await sendOwnDeliveries(io, context, result.run_id, { quiet: options.json === true });
    return exitCodeOf(result, options.failOnTestFailures);
  } finally {
    await context.close();
  }
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
    .addHelpText(
      'after',
      `
The run is queued (trigger: cli) and executed by this process, as soon as the
workflow's concurrency limit allows. Follow a queued run with \`aegis runs wait <id>\`.

Exit status: 0 when the run succeeded, 1 when a step failed, the run was
cancelled, or the workflow is unknown (or refused by its concurrency limit).`,
    )
    .action(async (workflow: string, options: RunOptions) =>
      setExit(await runCommand(io, workflow, options)),
    );
}
