import { type FailureKey, failureKeyOf } from './test-entries.ts';

/**
 * Which of `failures` an earlier run of `workflow` (or an earlier submit_bugs
 * step of this run) already submitted within the last `withinDays` days. The
 * engine gets it from whoever executes the run, so that a step can ask the
 * history without the engine knowing of the stores.
 */
export type SubmittedBefore = (
  workflow: string,
  failures: readonly FailureKey[],
  withinDays: number,
) => Promise<readonly FailureKey[]>;

export interface DedupeOutcome {
  /** The failures still to submit, in their order. */
  kept: unknown[];
  /** The names of the tests left out, each once, in their order. */
  deduplicated: string[];
}

/** A key as one string, for sets. */
const joined = (key: FailureKey) => JSON.stringify([key.test, key.error]);

/**
 * `dedupe: true` (SPEC §14): leaves out each failure (same test name, same
 * error text) submitted before within `withinDays`, and a repeat of one
 * already in this submission. Failures that name no test are always kept:
 * nothing says which test they are about.
 */
export async function leaveOutSubmitted(
  failures: readonly unknown[],
  options: { workflow: string; withinDays: number; submittedBefore?: SubmittedBefore | undefined },
): Promise<DedupeOutcome> {
  const keys = failures.map(failureKeyOf);
  const named = keys.filter((key): key is FailureKey => key !== null);
  const before =
    named.length > 0 && options.submittedBefore
      ? await options.submittedBefore(options.workflow, named, options.withinDays)
      : [];
  const seen = new Set(before.map(joined));
  const kept: unknown[] = [];
  const deduplicated: string[] = [];
  failures.forEach((entry, index) => {
    const key = keys[index];
    if (!key) {
      kept.push(entry);
      return;
    }
    if (seen.has(joined(key))) {
      if (!deduplicated.includes(key.test)) deduplicated.push(key.test);
      return;
    }
    seen.add(joined(key));
    kept.push(entry);
  });
  return { kept, deduplicated };
}
