import type { InStatement } from '@libsql/client';
import { statement } from '../db/statement.ts';
import type { StepResult } from '../workflow/types.ts';
import { type FailureKey, fingerprintOf, stepTestsOf } from './test-entries.ts';

/** Inferred passes look back this many of the workflow's runs with tests: the largest flaky window. */
export const INFERENCE_RUNS = 500;

/** Each statement writes only while `owner` holds the run's lease, as the step's own row does. */
const LEASED = `r.run_id = :run AND r.status = 'running' AND r.lease_owner = :owner`;

/**
 * The seq of the oldest of the workflow's newest `:runs` runs that ran tests
 * (with a seq below `:before`), or 0 when it has fewer: where a window of
 * runs begins (SPEC §14). Reused steps of a rerun ran nothing, so they do not count.
 */
export function windowStartSql(workflow: string, before: string | null): string {
  return `coalesce((SELECT w.run_seq FROM test_steps AS w
    WHERE w.workflow_name = ${workflow} AND w.reused = 0${before === null ? '' : ` AND w.run_seq < ${before}`}
    GROUP BY w.run_seq ORDER BY w.run_seq DESC LIMIT 1 OFFSET :runs - 1), 0)`;
}

/**
 * What a finished step adds to the test insight (SPEC §14), as statements to
 * write in the same transaction as the step's own row, each guarded like it
 * (nothing is written once the lease is lost) and each a no-op when written
 * again (a retried write that had landed):
 *
 * - a test or verify step that answered: its counts (`test_steps`: the
 *   agent's `total`, `passed` and `failed`, `failed` at least its number of
 *   `failures` entries and `total` at least passed + failed), and,
 *   unless a rerun copied it, one result per test it names: the named
 *   `failures` as failed, every valid `results` entry with its status; and,
 *   when it had no `results` and counted `total > 0`, a pass (inferred) for
 *   each test that the same service reported failing in one of the
 *   workflow's last 500 runs with tests, or in an earlier step of this run,
 *   and that this step does not name;
 * - a submit_bugs step that answered: the named failures it submitted and
 *   the ones it left out as submitted before (`bug_reports`).
 */
export function insightStatements(
  runId: string,
  index: number,
  step: StepResult,
  owner: string,
  now = Date.now(),
): InStatement[] {
  if (!step.success || step.skipped) return [];
  if (step.step_type === 'test' || step.step_type === 'verify')
    return testStepStatements(runId, index, step, owner);
  if (step.step_type === 'submit_bugs' && !step.reused)
    return bugReportStatements(runId, index, step, owner, now);
  return [];
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function testStepStatements(
  runId: string,
  index: number,
  step: StepResult,
  owner: string,
): InStatement[] {
  // The agent's counts, where its own list says more: every `failures` entry is a failed test.
  const failures = Array.isArray(step.data.failures) ? step.data.failures.length : 0;
  const passed = count(step.data.passed);
  const failed = Math.max(count(step.data.failed), failures);
  const args = {
    run: runId,
    index,
    owner,
    type: step.step_type,
    service: step.service,
    reused: step.reused ? 1 : 0,
    total: Math.max(count(step.data.total), passed + failed),
    passed,
    failed,
    runs: INFERENCE_RUNS,
  };
  const statements = [
    statement(
      `INSERT INTO test_steps (run_id, step_index, run_seq, workflow_name, day, step_type, reused, total, passed, failed)
        SELECT :run, :index, r.seq, r.workflow_name, substr(r.queued_at, 1, 10), :type, :reused, :total, :passed, :failed
        FROM runs AS r WHERE ${LEASED}
        ON CONFLICT (run_id, step_index) DO NOTHING`,
      args,
    ),
  ];
  if (step.reused) return statements; // its results belong to the run it was copied from
  const tests = stepTestsOf(step.data);
  const named = [...tests.byName.entries()].map(([test, { status, duration_ms }]) => [
    test,
    status,
    duration_ms,
  ]);
  if (named.length > 0)
    statements.push(
      statement(
        `INSERT INTO test_results (run_id, test, step_index, run_seq, workflow_name, step_type, service, status,
            inferred, duration_ms)
          SELECT :run, e.value ->> '$[0]', :index, r.seq, r.workflow_name, :type, :service, e.value ->> '$[1]',
            0, e.value ->> '$[2]'
          FROM runs AS r, json_each(:named) AS e WHERE ${LEASED}
          ON CONFLICT (run_id, test, step_index) DO NOTHING`,
        { ...args, named: JSON.stringify(named) },
      ),
    );
  if (!tests.hasResults && count(step.data.total) > 0)
    statements.push(
      statement(
        `INSERT INTO test_results (run_id, test, step_index, run_seq, workflow_name, step_type, service, status,
            inferred, duration_ms)
          SELECT DISTINCT :run, f.test, :index, r.seq, r.workflow_name, :type, :service, 'passed', 1, NULL
          FROM runs AS r JOIN test_results AS f
            ON f.workflow_name = r.workflow_name AND f.service = :service AND f.status = 'failed'
            AND f.run_seq >= ${windowStartSql('r.workflow_name', 'r.seq')}
            AND f.run_seq <= r.seq AND (f.run_seq < r.seq OR f.step_index < :index)
          WHERE ${LEASED} AND f.test NOT IN (SELECT value FROM json_each(:names))
          ON CONFLICT (run_id, test, step_index) DO NOTHING`,
        { ...args, names: JSON.stringify([...tests.byName.keys()]) },
      ),
    );
  return statements;
}

function isFailureKey(value: unknown): value is FailureKey {
  const key = value as Partial<FailureKey> | null;
  return typeof key?.test === 'string' && typeof key.error === 'string';
}

function bugReportStatements(
  runId: string,
  index: number,
  step: StepResult,
  owner: string,
  now: number,
): InStatement[] {
  const submitted = Array.isArray(step.data.submitted_tests)
    ? step.data.submitted_tests.filter(isFailureKey)
    : [];
  const deduplicated = Array.isArray(step.data.deduplicated)
    ? step.data.deduplicated.filter((name): name is string => typeof name === 'string')
    : [];
  const rows = [
    ...submitted.map((key) => [key.test, fingerprintOf(key)]),
    ...deduplicated.map((test) => [test, '']),
  ];
  if (rows.length === 0) return [];
  return [
    statement(
      `INSERT INTO bug_reports (run_id, test, step_index, fingerprint, workflow_name, at)
        SELECT :run, e.value ->> '$[0]', :index, e.value ->> '$[1]', r.workflow_name, :now
        FROM runs AS r, json_each(:rows) AS e WHERE ${LEASED}
        ON CONFLICT (run_id, test, step_index, fingerprint) DO NOTHING`,
      { run: runId, index, owner, now, rows: JSON.stringify(rows) },
    ),
  ];
}
