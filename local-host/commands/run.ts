import type { Command } from 'commander';
import { findWorkflow } from '#shared/runs/execute-run.ts';
import { reportedFailures } from '#shared/workflow/conditions.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { formatDuration, type Paint, paintFor, SYMBOL } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandContext, loadForCommand } from './common.ts';
import { sendOwnDeliveries } from './run-webhooks.ts';

interface RunOptions extends ConfigOption {
  json?: boolean;
  failOnTestFailures?: boolean;
}

function describeStep(index: number, step: StepResult, paint: Paint): string {
  const label = `${step.step_type} ${paint.dim(`(${step.service})`)}`;
  if (step.skipped)
    return `  ${paint.yellow(SYMBOL.skipped)} ${index + 1}. ${label}  ${String(step.data.message ?? 'skipped')}`;
  const time = paint.dim(formatDuration(step.duration_ms));
  if (!step.success) {
    const tries = step.attempts.length > 1 ? ` after ${step.attempts.length} attempts` : '';
    return `  ${paint.red(SYMBOL.failed)} ${index + 1}. ${label}  ${time}  ${paint.red(`${step.error ?? 'failed'}${tries}`)}`;
  }
  return `  ${paint.green(SYMBOL.passed)} ${index + 1}. ${label}  ${time}${summarize(step)}`;
}

/** A few words of what a step found, where that helps. */
function summarize(step: StepResult): string {
  const d = step.data;
  if (step.step_type === 'discover') return `  ${d.route_count} routes`;
  if (step.step_type === 'test' || step.step_type === 'verify')
    return `  ${d.passed}/${d.total} passed, ${d.failed} failed`;
  if (step.step_type === 'submit_bugs') return `  ${d.submitted} submitted`;
  return '';
}

function hasTestFailures(steps: readonly StepResult[]): boolean {
  return steps.some(
    (s) => (s.step_type === 'test' || s.step_type === 'verify') && reportedFailures(s),
  );
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
    await context.stores(); // an unwritable history path fails here, before anything runs
    if (!options.json) {
      const count = workflow.steps.length;
      io.stdout.write(
        `${paint.bold(`Running ${workflowKey}`)} ${paint.dim(`(${workflow.name}, ${count} step${count === 1 ? '' : 's'})`)}\n`,
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
    const result = await context.runWorkflow(workflowKey, progress);
    const failedOnTests = options.failOnTestFailures === true && hasTestFailures(result.steps);
    if (options.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const verdict =
        result.success && !failedOnTests
          ? paint.green(`${SYMBOL.passed} ${workflowKey} succeeded`)
          : paint.red(`${SYMBOL.failed} ${workflowKey} failed`);
      const why =
        result.success && failedOnTests
          ? ' (tests reported failures; --fail-on-test-failures)'
          : '';
      io.stdout.write(
        `${verdict}${why} in ${formatDuration(result.duration_ms)} ${paint.dim(`run ${result.run_id}`)}\n`,
      );
    }
    await sendOwnDeliveries(io, context, result.run_id, { quiet: options.json === true });
    return result.success && !failedOnTests ? EXIT.ok : EXIT.failure;
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
    .addHelpText(
      'after',
      '\nExit status: 0 when the run succeeded, 1 when a step failed or the workflow is unknown.',
    )
    .action(async (workflow: string, options: RunOptions) =>
      setExit(await runCommand(io, workflow, options)),
    );
}
