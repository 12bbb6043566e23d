import { BadRequestError } from '#shared/errors.ts';
import { type JsonService, objectBody } from './json-service.ts';
import { SHOP_ROUTES, SHOP_TESTS } from './shop-fixture.ts';

export interface TestFailure {
  test: string;
  route: string;
  error: string;
}

export interface TestRun {
  run_id: string;
  verify_only: boolean;
  total: number;
  passed: number;
  failed: number;
  failures: TestFailure[];
}

export interface QaAgentOptions {
  apiKey: string | undefined;
  /** Whether the bug tracker holds a report for this test: the demo's stand-in for "the bug was fixed". */
  isReported: (test: string) => boolean;
}

/**
 * The simulated QA agent. A test run always finds the shop's two bugs; a
 * verification run re-runs the suite as if every reported bug had been fixed,
 * so it passes exactly once those failures reached the bug tracker.
 */
export function qaAgentService(options: QaAgentOptions): JsonService {
  let runCount = 0;
  const run = (verifyOnly: boolean): TestRun => {
    runCount += 1;
    const failures = SHOP_TESTS.filter(
      (t) => t.bug !== null && !(verifyOnly && options.isReported(t.test)),
    ).map((t) => ({ test: t.test, route: t.route, error: t.bug ?? '' }));
    return {
      run_id: `qa-run-${String(runCount).padStart(4, '0')}`,
      verify_only: verifyOnly,
      total: SHOP_TESTS.length,
      passed: SHOP_TESTS.length - failures.length,
      failed: failures.length,
      failures,
    };
  };
  return {
    name: 'qa-agent',
    description: 'Simulated QA agent testing a demo shop (Aegis demo services).',
    apiKey: options.apiKey,
    routes: [
      {
        method: 'GET',
        path: '/health',
        description: 'liveness: {status, service}',
        access: 'open',
        handle: () => ({ body: { status: 'ok', service: 'qa-agent' } }),
      },
      {
        method: 'GET',
        path: '/api/routes',
        description: "the demo shop's routes: {routes: [{method, path, description}]}",
        access: 'api-key',
        handle: () => ({ body: { routes: SHOP_ROUTES } }),
      },
      {
        method: 'POST',
        path: '/api/runs',
        description:
          'run the suite: {} finds 2 failures of 12; {"verify_only": true} treats reported failures as fixed',
        access: 'api-key',
        handle: (request) => ({ body: run(verifyOnlyFlag(objectBody(request))) }),
      },
    ],
  };
}

function verifyOnlyFlag(body: Record<string, unknown>): boolean {
  const flag = body.verify_only ?? false;
  if (typeof flag !== 'boolean') throw new BadRequestError('"verify_only" must be true or false');
  return flag;
}
