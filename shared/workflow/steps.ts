import type { ServiceConfig, StepConfig, StepType } from '../config/schema.ts';
import type { Environment } from '../env.ts';
import { leaveOutSubmitted, type SubmittedBefore } from '../insight/dedupe.ts';
import { failureKeyOf, readResults } from '../insight/test-entries.ts';
import { callServiceJson, ServiceCallError } from '../services/http.ts';
import { roundMs } from '../time.ts';
import type { StepResult } from './types.ts';

export interface StepContext {
  key: string;
  service: ServiceConfig;
  env: Environment;
  /** Aborted when the attempt times out, so the HTTP request is cut off, not left running. */
  signal: AbortSignal;
  /** Results of the steps that finished before this step (or before its batch). */
  earlier: readonly StepResult[];
  /** When the run started (`performance.now()` clock), for the report's total duration. */
  runStartedAt: number;
  /** W3C `traceparent` of this attempt: the run's trace, a span of its own. */
  traceparent?: string;
  /** The workflow's key, and what submit_bugs with `dedupe: true` asks about earlier submissions. */
  workflow: string;
  submittedBefore?: SubmittedBefore | undefined;
}

export interface StepCall {
  method: 'GET' | 'POST';
  path: string;
}

const ROUTES: StepCall = { method: 'GET', path: '/api/routes' };
const RUNS: StepCall = { method: 'POST', path: '/api/runs' };
const REPORTS: StepCall = { method: 'POST', path: '/api/v1/reports' };

/** The HTTP call each step type makes (SPEC §3); `report` calls nothing. Error texts name it too. */
export const STEP_CALLS: Readonly<Record<StepType, StepCall | null>> = {
  discover: ROUTES,
  test: RUNS,
  submit_bugs: REPORTS,
  verify: RUNS,
  report: null,
};

/** `qaagent POST /api/runs`: how an error text names the call it is about. */
export function describeCall(key: string, call: StepCall): string {
  return `${key} ${call.method} ${call.path}`;
}

type StepData = Record<string, unknown>;
type StepExecutor = (step: StepConfig, context: StepContext) => Promise<StepData>;

function send(context: StepContext, call: StepCall, body?: unknown): Promise<unknown> {
  return callServiceJson({
    key: context.key,
    service: context.service,
    env: context.env,
    signal: context.signal,
    traceparent: context.traceparent,
    ...call,
    body,
  });
}

function invalid(context: StepContext, call: StepCall, why: string): ServiceCallError {
  return new ServiceCallError(`${describeCall(context.key, call)}: ${why}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `total`, `passed`, `failed`, `failures` from a test run's answer: defaults
 * only when a key is absent; a key that is present (`null` included) must have
 * the right type (SPEC §3). The optional `results` list is kept too, read
 * leniently (SPEC §14): a malformed one is left out with a note, never an error.
 */
function testCounts(context: StepContext, call: StepCall, body: unknown): StepData {
  if (!isObject(body)) throw invalid(context, call, 'response is not a JSON object');
  const counts: StepData = {};
  for (const name of ['total', 'passed', 'failed'] as const) {
    const value = body[name] === undefined ? 0 : body[name];
    // JSON.parse turns 1e999 into Infinity, which would serialise back as null.
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalid(context, call, `"${name}" is not a number`);
    counts[name] = value;
  }
  const failures = body.failures === undefined ? [] : body.failures;
  if (!Array.isArray(failures)) throw invalid(context, call, '"failures" is not a list');
  counts.failures = failures;
  return { ...counts, ...readResults(body.results) };
}

const discover: StepExecutor = async (_step, context) => {
  const body = await send(context, ROUTES);
  if (!isObject(body) || !Array.isArray(body.routes))
    throw invalid(context, ROUTES, 'response has no "routes" list');
  return { routes: body.routes, route_count: body.routes.length };
};

const test: StepExecutor = async (_step, context) =>
  testCounts(context, RUNS, await send(context, RUNS, {}));

const verify: StepExecutor = async (_step, context) => ({
  ...testCounts(context, RUNS, await send(context, RUNS, { verify_only: true })),
  verify_only: true,
});

const submitBugs: StepExecutor = async (step, context) => {
  const failures = context.earlier.flatMap((earlier) =>
    Array.isArray(earlier.data.failures) ? earlier.data.failures : [],
  );
  if (failures.length === 0) return { submitted: 0, message: 'No failures to submit' };
  const { kept, deduplicated } = step.dedupe
    ? await leaveOutSubmitted(failures, {
        workflow: context.workflow,
        withinDays: step.dedupe_days,
        submittedBefore: context.submittedBefore,
      })
    : { kept: failures, deduplicated: null };
  const dedupe = deduplicated === null ? {} : { deduplicated };
  if (kept.length === 0)
    return { submitted: 0, ...dedupe, message: 'Every failure was submitted before (dedupe)' };
  const response = await send(context, REPORTS, { failures: kept });
  // What it handed on, by test: remembered for dedupe and for the flaky rule (SPEC §14).
  const submitted_tests = kept.map(failureKeyOf).filter((key) => key !== null);
  return { submitted: kept.length, response, ...dedupe, submitted_tests };
};

const report: StepExecutor = async (_step, context) => {
  const passed = context.earlier.filter((s) => s.success && !s.skipped).length;
  const skipped = context.earlier.filter((s) => s.skipped).length;
  const failed = context.earlier.filter((s) => !s.success).length;
  return {
    summary: { passed, failed, skipped, total: passed + failed + skipped },
    total_duration_ms: roundMs(performance.now() - context.runStartedAt),
    steps: context.earlier.map((s) => ({
      step_type: s.step_type,
      service: s.service,
      success: s.success,
      skipped: s.skipped,
      duration_ms: s.duration_ms,
      error: s.error,
    })),
  };
};

export const STEP_EXECUTORS: Readonly<Record<StepType, StepExecutor>> = {
  discover,
  test,
  submit_bugs: submitBugs,
  verify,
  report,
};
