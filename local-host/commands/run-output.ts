import type { HistoryRecord } from '#shared/history/history-store.ts';
import { reportedFailures } from '#shared/workflow/conditions.ts';
import type { RunResult, StepResult } from '#shared/workflow/types.ts';
import { formatDuration, type Paint, SYMBOL } from '../format.ts';
import { EXIT } from '../io.ts';

/** One line per step, as `aegis run` prints them while the run goes on. */
export function describeStep(index: number, step: StepResult, paint: Paint): string {
  const label = `${step.step_type} ${paint.dim(`(${step.service})`)}`;
  const reused = step.reused ? paint.dim('  reused from the parent run') : '';
  if (step.skipped)
    return `  ${paint.yellow(SYMBOL.skipped)} ${index + 1}. ${label}  ${String(step.data.message ?? 'skipped')}${reused}`;
  const time = paint.dim(formatDuration(step.duration_ms));
  if (!step.success) {
    const tries = step.attempts.length > 1 ? ` after ${step.attempts.length} attempts` : '';
    return `  ${paint.red(SYMBOL.failed)} ${index + 1}. ${label}  ${time}  ${paint.red(`${step.error ?? 'failed'}${tries}`)}${reused}`;
  }
  return `  ${paint.green(SYMBOL.passed)} ${index + 1}. ${label}  ${time}${summarize(step)}${reused}`;
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

export function hasTestFailures(steps: readonly StepResult[]): boolean {
  return steps.some(
    (s) => (s.step_type === 'test' || s.step_type === 'verify') && reportedFailures(s),
  );
}

/** The last line of a run: how it ended, how long it took, its id. */
export function verdictLine(
  result: Pick<
    RunResult,
    'workflow_name' | 'status' | 'success' | 'reason' | 'duration_ms' | 'run_id'
  >,
  paint: Paint,
  failedOnTests = false,
): string {
  const { workflow_name: key } = result;
  const verdict =
    result.status !== 'completed'
      ? paint.yellow(
          `${SYMBOL.skipped} ${key} ${result.status}${result.reason ? ` (${result.reason})` : ''}`,
        )
      : result.success && !failedOnTests
        ? paint.green(`${SYMBOL.passed} ${key} succeeded`)
        : paint.red(`${SYMBOL.failed} ${key} failed`);
  const why =
    result.status === 'completed' && result.success && failedOnTests
      ? ' (tests reported failures; --fail-on-test-failures)'
      : '';
  return `${verdict}${why} in ${formatDuration(result.duration_ms)} ${paint.dim(`run ${result.run_id}`)}`;
}

/** SPEC §7: 0 when the run succeeded (and, with the flag, no test failed); 1 otherwise. */
export function exitCodeOf(result: RunResult, failOnTestFailures = false): number {
  const ok = result.status === 'completed' && result.success;
  return ok && !(failOnTestFailures && hasTestFailures(result.steps)) ? EXIT.ok : EXIT.failure;
}

/** A short status label for tables: `completed ✓`, `completed ✗`, `cancelled` … */
export function statusLabel(run: Pick<HistoryRecord, 'status' | 'success'>): string {
  if (run.status !== 'completed') return run.status;
  return run.success ? `${SYMBOL.passed} succeeded` : `${SYMBOL.failed} failed`;
}
