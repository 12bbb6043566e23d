import { createHash } from 'node:crypto';

/*
 * What a test or verify step's answer says about single tests (SPEC §14):
 * its `failures` entries, and its optional `results` list. Entries are the
 * agent's own objects; these functions read them without trusting them.
 */

export const TEST_STATUSES = ['passed', 'failed', 'skipped'] as const;
export type TestStatus = (typeof TEST_STATUSES)[number];

/** The fields that name a test, in the order they are looked for. */
const NAME_FIELDS = ['test', 'name', 'id'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The name of the test an entry is about: its `test` field, else `name`,
 * else `id`. The first of them that is present (and not null) decides; when
 * it is not a non-empty string (or none is present) the entry is counted by
 * the agent's numbers but not tracked by name: null.
 */
export function testNameOf(entry: unknown): string | null {
  if (!isObject(entry)) return null;
  for (const field of NAME_FIELDS) {
    const value = entry[field];
    if (value === undefined || value === null) continue;
    return typeof value === 'string' && value !== '' ? value : null;
  }
  return null;
}

/** A failure's error text: its `error`, else its `message` ('' when it has neither); not text: as JSON. */
export function errorTextOf(entry: unknown): string {
  if (!isObject(entry)) return '';
  const error = entry.error ?? entry.message;
  if (error === undefined || error === null) return '';
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** What dedupe compares: the same test failing with the same error text. */
export interface FailureKey {
  test: string;
  error: string;
}

/** The failure key of an entry, or null for an entry that names no test (it is always submitted). */
export function failureKeyOf(entry: unknown): FailureKey | null {
  const test = testNameOf(entry);
  return test === null ? null : { test, error: errorTextOf(entry) };
}

/** How a failure key is stored and looked up: a fixed-size digest of long error texts. */
export function fingerprintOf(key: FailureKey): string {
  return createHash('sha256')
    .update(JSON.stringify([key.test, key.error]))
    .digest('hex');
}

/** One valid entry of a `results` list. */
export interface TestResultEntry {
  test: string;
  status: TestStatus;
  duration_ms: number | null;
}

/** A `results` entry as a TestResultEntry, or why it is not one. */
function readResult(entry: unknown): TestResultEntry | string {
  const test = testNameOf(entry);
  if (test === null) return 'no test, name or id string';
  const { status, duration_ms } = entry as Record<string, unknown>;
  if (!(TEST_STATUSES as readonly unknown[]).includes(status))
    return `status must be ${TEST_STATUSES.join(', ')}`;
  const duration =
    typeof duration_ms === 'number' && Number.isFinite(duration_ms) && duration_ms >= 0
      ? duration_ms
      : null;
  return { test, status: status as TestStatus, duration_ms: duration };
}

/** The step data a `results` value gives: the valid entries as received, and a note on what was left out. */
export interface ResultsData {
  results?: unknown[];
  results_note?: string;
}

const NOTED_PROBLEMS = 3;

/**
 * Reads a test run's optional `results` list leniently: it is extra detail
 * beside the counts and `failures` that SPEC §3 requires, so a malformed one
 * never fails the step (a run that found its failures must still hand them
 * on). Entries that are not `{test|name|id, status, duration_ms?}` are left
 * out and the note says which and why; a value that is not a list, or a list
 * with no valid entry, is left out entirely (the step then counts as one
 * without `results`, so passes are still inferred for it).
 */
export function readResults(value: unknown): ResultsData {
  if (value === undefined) return {};
  if (!Array.isArray(value)) return { results_note: '"results" is not a list: ignored' };
  const kept: unknown[] = [];
  const problems: string[] = [];
  value.forEach((entry, index) => {
    const read = readResult(entry);
    if (typeof read === 'string') problems.push(`entry ${index}: ${read}`);
    else kept.push(entry);
  });
  if (problems.length === 0) return { results: value };
  const shown = problems.slice(0, NOTED_PROBLEMS).join('; ');
  const more = problems.length > NOTED_PROBLEMS ? '; …' : '';
  if (kept.length === 0)
    return { results_note: `"results" has no valid entry: ignored (${shown}${more})` };
  return {
    results: kept,
    results_note: `"results": ${problems.length} of ${value.length} entries ignored (${shown}${more})`,
  };
}

/** What one test or verify step's data says of each test it names, failures first. */
export interface StepTests {
  /** Test name → its status in this step (failed wins over passed, passed over skipped). */
  byName: Map<string, { status: TestStatus; duration_ms: number | null }>;
  /** The step had a non-empty `results` list: it says itself which tests passed, and nothing is inferred. */
  hasResults: boolean;
}

const PRECEDENCE: Record<TestStatus, number> = { failed: 2, passed: 1, skipped: 0 };

/** Reads a step's `failures` and `results` (both as the step kept them) into one status per test. */
export function stepTestsOf(data: Readonly<Record<string, unknown>>): StepTests {
  const byName: StepTests['byName'] = new Map();
  const note = (test: string, status: TestStatus, duration_ms: number | null) => {
    const known = byName.get(test);
    if (!known || PRECEDENCE[status] > PRECEDENCE[known.status])
      byName.set(test, { status, duration_ms: duration_ms ?? known?.duration_ms ?? null });
    else if (known.duration_ms === null && duration_ms !== null) known.duration_ms = duration_ms;
  };
  const failures = Array.isArray(data.failures) ? data.failures : [];
  for (const entry of failures) {
    const test = testNameOf(entry);
    if (test !== null) note(test, 'failed', null);
  }
  const results = Array.isArray(data.results) ? data.results : null;
  for (const entry of results ?? []) {
    const read = readResult(entry);
    if (typeof read !== 'string') note(read.test, read.status, read.duration_ms);
  }
  return { byName, hasResults: results !== null && results.length > 0 };
}
