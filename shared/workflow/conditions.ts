import type { Condition } from '../config/schema.ts';
import type { StepResult } from './types.ts';

function failed(step: StepResult): boolean {
  return !step.success && !step.skipped;
}

/** The step's data lists failing tests (a test or verify step that ran and found some). */
export function reportedFailures(step: StepResult): boolean {
  const failures = step.data.failures;
  return Array.isArray(failures) && failures.length > 0;
}

/** SPEC §3's conditions, evaluated on the steps that finished before the step (or before its batch). */
export function conditionHolds(
  condition: Condition | undefined,
  earlier: readonly StepResult[],
): boolean {
  switch (condition) {
    case undefined:
    case 'always':
      return true;
    case 'has_failures':
      return earlier.some((step) => failed(step) || reportedFailures(step));
    case 'on_success':
      return earlier.every((step) => step.success);
    case 'on_failure':
      return earlier.some(failed);
  }
}
