import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryRecord } from '#shared/history/history-store.ts';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import type { TestInsight } from '#shared/insight/insight-store.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { type StubAnswer, type StubRoute, stubForTest } from '#test/support/stub-service.ts';
import { FUNCTIONS } from '../index.ts';

/*
 * Black-box: a stub QA agent whose answers change from run to run in a known
 * pattern, real runs through the one executor, and the answers of the insight
 * and history endpoints, through the functions' Lambda handlers.
 */

type TestRunAnswer = Record<string, unknown>;
/** The QA agent's answer to the n-th test run (from 1), and to the n-th verify run. */
type Agent = { test: (n: number) => TestRunAnswer; verify?: (n: number) => TestRunAnswer };

function agentRoutes(agent: Agent): Record<string, StubRoute> {
  let tests = 0;
  let verifies = 0;
  return {
    'GET /health': { body: { status: 'ok' } },
    'POST /api/runs': (request) => {
      const verify = (request.json as { verify_only?: boolean } | null)?.verify_only === true;
      if (verify) return { body: agent.verify?.(++verifies) ?? { total: 0 } };
      return { body: agent.test(++tests) };
    },
  };
}

const BUG_TRACKER: Record<string, StubRoute> = {
  'GET /health': { body: { status: 'ok' } },
  'POST /api/v1/reports': { status: 201, body: { created: true } },
};

async function setUp(agent: Agent, workflows: string, moreServices = '') {
  const qa = await stubForTest(agentRoutes(agent));
  const bugs = await stubForTest(BUG_TRACKER);
  const test = testContext(`
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  bugalizer: { name: Bug tracker, url: "${bugs.url}" }
${moreServices}
workflows:
${workflows}
`);
  const insight = createApiHandler(test.context, FUNCTIONS.insight);
  const runs = createApiHandler(test.context, FUNCTIONS.runs);
  const workflowsFn = createApiHandler(test.context, FUNCTIONS.workflows);
  return {
    ...test,
    qa,
    bugs,
    /** Runs the workflow `times` times, one after the other, as `aegis run` does; their ids. */
    run: async (key: string, times = 1) => {
      const ids: string[] = [];
      for (let i = 0; i < times; i++) ids.push((await test.context.runWorkflow(key)).run_id);
      return ids;
    },
    get: (path: string, query = '') => invokeHandler(insight, { path, query }),
    history: async (query = '') =>
      (await invokeHandler(runs, { path: '/api/history', query })).json as HistoryRecord[],
    workflowHistory: async (key: string) =>
      (await invokeHandler(workflowsFn, { path: `/api/workflows/${key}/history` }))
        .json as HistoryRecord[],
  };
}

const TESTS_ONLY = `
  suite:
    name: Suite
    steps:
      - { type: test, service: qaagent }
`;

const named = (...tests: string[]) => tests.map((test) => ({ test, error: `${test} broke` }));

describe('GET /api/workflows/{name}/tests: a known pattern of failures', () => {
  // Six runs of 10 tests: `always` fails every run, `flipping` on odd runs, `once` on run 2 only;
  // two failures name no test (no name field; a number as name): counted, never tracked.
  const pattern: Agent = {
    test: (n) => {
      const failing = [
        'always',
        ...(n % 2 === 1 ? ['flipping'] : []),
        ...(n === 2 ? ['once'] : []),
      ];
      const failures = [...named(...failing), { error: 'no name at all' }, { test: 42 }];
      return { total: 10, passed: 10 - failures.length, failed: failures.length, failures };
    },
  };

  it('counts failures, passes (inferred) and flips, and flags the flaky test', async () => {
    const { run, get } = await setUp(pattern, TESTS_ONLY);
    const ids = await run('suite', 6);

    const answer = await get('/api/workflows/suite/tests');

    expect(answer.status).toBe(200);
    const tests = answer.json as TestInsight[];
    const lastFailed = (runIndex: number) => ids[runIndex];
    // Flaky first, then by failure rate.
    expect(tests.map((t) => t.test)).toEqual(['flipping', 'always', 'once']);
    expect(tests[0]).toMatchObject({
      test: 'flipping',
      failures: 3, // runs 1, 3, 5
      passes: 3, // runs 2, 4, 6: absent from failures of a step that counted tests, so inferred
      flips: 5,
      failure_rate: 0.5,
      last_failed_run_id: lastFailed(4),
      flaky: true,
    });
    expect(tests[1]).toMatchObject({
      test: 'always',
      failures: 6,
      passes: 0,
      flips: 0,
      failure_rate: 1,
      last_failed_run_id: lastFailed(5),
      flaky: false,
    });
    // Unknown in run 1 (it had never failed), failed in run 2, passed in the four after: one flip.
    expect(tests[2]).toMatchObject({
      test: 'once',
      failures: 1,
      passes: 4,
      flips: 1,
      failure_rate: 0.2,
      last_failed_run_id: lastFailed(1),
      flaky: false,
    });
    expect(tests[0]?.last_failed_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('narrows to the last `window` runs, filters by flaky, and pages', async () => {
    const { run, get } = await setUp(pattern, TESTS_ONLY);
    await run('suite', 6);

    const lastTwo = (await get('/api/workflows/suite/tests', 'window=2')).json as TestInsight[];
    const flaky = (await get('/api/workflows/suite/tests', 'flaky=true')).json as TestInsight[];
    const steady = (await get('/api/workflows/suite/tests', 'flaky=false')).json as TestInsight[];
    const page = (await get('/api/workflows/suite/tests', 'limit=1&offset=1'))
      .json as TestInsight[];

    // Runs 5 and 6 only: `flipping` failed then passed (one flip: not flaky), `once` passed twice.
    expect(
      lastTwo.map(({ test, failures, passes, flips, flaky }) => [
        test,
        failures,
        passes,
        flips,
        flaky,
      ]),
    ).toEqual([
      ['always', 2, 0, 0, false],
      ['flipping', 1, 1, 1, false],
      ['once', 0, 2, 0, false],
    ]);
    expect(lastTwo[2]).toMatchObject({ last_failed_at: null, last_failed_run_id: null });
    expect(flaky.map((t) => t.test)).toEqual(['flipping']);
    expect(steady.map((t) => t.test)).toEqual(['always', 'once']);
    expect(page.map((t) => t.test)).toEqual(['always']);
  });

  it('puts the agent counts of each run in the history lists, unnamed failures included', async () => {
    const { run, history, workflowHistory } = await setUp(pattern, TESTS_ONLY);
    await run('suite', 2);

    const [second, first] = await history();
    const [newest] = await workflowHistory('suite');

    // Run 2 fails always + once + the two unnamed: 4 of 10; run 1 always + flipping + unnamed: 4.
    expect(second?.tests).toEqual({ total: 10, passed: 6, failed: 4 });
    expect(first?.tests).toEqual({ total: 10, passed: 6, failed: 4 });
    expect(newest?.tests).toEqual({ total: 10, passed: 6, failed: 4 });
    expect(second?.success).toBe(true); // the unnamed entries never fail a run
  });
});

describe('the test counts of a run', () => {
  it("are the agent's, with failed at least its failures and total at least passed + failed", async () => {
    const answers = [
      { total: 5, failures: named('a', 'b') }, // no `failed` count: the list says 2
      { passed: 3, failed: 0, failures: named('c') }, // no `total`: 3 passed + 1 failed
    ];
    const { run, history } = await setUp({ test: (n) => answers[n - 1] ?? {} }, TESTS_ONLY);
    await run('suite', 2);

    const [second, first] = await history();

    expect(first?.tests).toEqual({ total: 5, passed: 0, failed: 2 });
    expect(second?.tests).toEqual({ total: 4, passed: 3, failed: 1 });
  });

  it('are those of its test steps; of its verify steps only when it has no test step that answered', async () => {
    const { run, history } = await setUp(
      {
        test: (n) =>
          n === 1 ? { total: 10, passed: 8, failed: 2, failures: named('x', 'y') } : {},
        verify: () => ({ total: 10, passed: 10, failed: 0 }),
      },
      `
  both:
    name: Test and verify
    steps:
      - { type: test, service: qaagent }
      - { type: verify, service: qaagent }
  verify_only:
    name: Verify alone
    steps:
      - { type: verify, service: qaagent }
`,
    );
    await run('both');
    await run('verify_only');

    const [verifyOnly, both] = await history();

    expect(both?.tests).toEqual({ total: 10, passed: 8, failed: 2 });
    expect(verifyOnly?.tests).toEqual({ total: 10, passed: 10, failed: 0 });
  });
});

describe('the test-then-verify rule', () => {
  const failsThenPasses: Agent = {
    test: () => ({ total: 3, passed: 2, failed: 1, failures: named('retried') }),
    verify: () => ({ total: 3, passed: 3, failed: 0, failures: [] }),
  };

  it('flags a test that failed in test and passed in a later verify with no submit_bugs between', async () => {
    const { run, get } = await setUp(
      failsThenPasses,
      `
  rerun_only:
    name: Test then verify
    steps:
      - { type: test, service: qaagent }
      - { type: verify, service: qaagent }
`,
    );
    await run('rerun_only');

    const tests = (await get('/api/workflows/rerun_only/tests')).json as TestInsight[];

    // One run: it failed there (the run's outcome), so no flips — the verify pass alone makes it flaky.
    expect(tests).toEqual([
      expect.objectContaining({ test: 'retried', failures: 1, passes: 0, flips: 0, flaky: true }),
    ]);
  });

  it('does not flag it when a submit_bugs step between them submitted it', async () => {
    const { run, get, bugs } = await setUp(
      failsThenPasses,
      `
  reported:
    name: Test, report, verify
    steps:
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
      - { type: verify, service: qaagent }
`,
    );
    await run('reported');

    const tests = (await get('/api/workflows/reported/tests')).json as TestInsight[];

    expect(bugs.calls('POST /api/v1/reports')).toHaveLength(1);
    expect(tests).toEqual([
      expect.objectContaining({ test: 'retried', failures: 1, flaky: false }),
    ]);
  });

  it('counts a failure that dedupe left out as handed on: it was submitted before', async () => {
    const { run, get, bugs } = await setUp(
      failsThenPasses,
      `
  deduped:
    name: Test, report once, verify
    steps:
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures, dedupe: true }
      - { type: verify, service: qaagent }
`,
    );
    await run('deduped', 3);

    const tests = (await get('/api/workflows/deduped/tests')).json as TestInsight[];

    expect(bugs.calls('POST /api/v1/reports')).toHaveLength(1);
    expect(tests).toEqual([
      expect.objectContaining({ test: 'retried', failures: 3, flaky: false }),
    ]);
  });

  it('reads a verify pass from a results list too', async () => {
    const { run, get } = await setUp(
      {
        test: () => ({ total: 1, failed: 1, failures: named('listed') }),
        // total 0: no inference here; the list alone says it passed.
        verify: () => ({ results: [{ test: 'listed', status: 'passed' }] }),
      },
      `
  listed:
    name: Test then verify, with results
    steps:
      - { type: test, service: qaagent }
      - { type: verify, service: qaagent }
`,
    );
    await run('listed');

    const tests = (await get('/api/workflows/listed/tests')).json as TestInsight[];

    expect(tests).toEqual([expect.objectContaining({ test: 'listed', flaky: true })]);
  });
});

describe('inferred passes', () => {
  it('are recorded only by a step that succeeded and counted tests, for tests that failed before', async () => {
    // Run 1 fails `fragile`; run 2 counts no tests; run 3's agent is down; run 4 counts 5 and lists nothing.
    const answers: StubAnswer[] = [
      { body: { total: 5, passed: 4, failed: 1, failures: named('fragile') } },
      { body: { total: 0, failures: [] } },
      { status: 503, body: { error: 'down' } },
      { body: { total: 5, passed: 5, failed: 0, failures: [] } },
    ];
    const qaRuns: Agent = { test: () => ({}) };
    const { run, get, qa, history } = await setUp(qaRuns, TESTS_ONLY);
    let call = 0;
    qa.route('POST /api/runs', () => answers[call++] ?? {});
    const ids = await run('suite', 4);

    const tests = (await get('/api/workflows/suite/tests')).json as TestInsight[];
    const records = await history('limit=4');

    expect(tests).toEqual([
      expect.objectContaining({ test: 'fragile', failures: 1, passes: 1, flips: 1, flaky: false }),
    ]);
    // The lists show what each run's test step counted; the failed step counted nothing.
    expect(records.map((r) => [r.run_id, r.tests])).toEqual([
      [ids[3], { total: 5, passed: 5, failed: 0 }],
      [ids[2], null],
      [ids[1], { total: 0, passed: 0, failed: 0 }],
      [ids[0], { total: 5, passed: 4, failed: 1 }],
    ]);
  });

  it('come only from failures the same service reported', async () => {
    // Two agents with their own suites: `theirs` failed in the second one's run 1 only.
    const second = await stubForTest(
      agentRoutes({ test: (n) => ({ total: 2, failures: n === 1 ? named('theirs') : [] }) }),
    );
    const { run, get } = await setUp(
      { test: () => ({ total: 4, failures: [] }) },
      `
  two_suites:
    name: Two suites
    steps:
      - { type: test, service: qaagent }
      - { type: test, service: second }
`,
      `  second: { name: Second agent, url: "${second.url}" }`,
    );
    await run('two_suites', 2);

    const tests = (await get('/api/workflows/two_suites/tests')).json as TestInsight[];

    // Passed once (run 2, the second agent), never inferred from the first agent's steps.
    expect(tests).toEqual([expect.objectContaining({ test: 'theirs', failures: 1, passes: 1 })]);
  });
});

describe('results lists', () => {
  it('records every valid entry with its status; a malformed entry is left out with a note, never a failed step', async () => {
    const { run, get, context } = await setUp(
      {
        test: () => ({
          total: 5,
          passed: 2,
          failed: 2,
          failures: named('b'),
          results: [
            { test: 'a', status: 'passed', duration_ms: 5 },
            { name: 'b', status: 'failed', duration_ms: 7 },
            { id: 'c', status: 'skipped' },
            { test: 'd', status: 'failed' }, // failed per the list, though not in failures
            { test: 'e', status: 'broken' },
            'junk',
          ],
        }),
      },
      TESTS_ONLY,
    );
    const [runId] = await run('suite');

    const tests = (await get('/api/workflows/suite/tests')).json as TestInsight[];
    const record = await (await context.stores()).history.getRun(runId as string);
    const data = record?.steps[0]?.data;

    expect(record?.steps[0]?.success).toBe(true);
    expect(data?.results).toHaveLength(4);
    expect(data?.results_note).toBe(
      '"results": 2 of 6 entries ignored (entry 4: status must be passed, failed, skipped; entry 5: no test, name or id string)',
    );
    // `c` was only skipped: not a run where it was seen.
    expect(tests.map(({ test, failures, passes }) => [test, failures, passes])).toEqual([
      ['b', 1, 0],
      ['d', 1, 0],
      ['a', 0, 1],
    ]);
  });

  it('ignores a results value that is not a list, and infers passes as without one', async () => {
    const { run, get, context } = await setUp(
      {
        test: (n) => ({
          total: 2,
          failures: n === 1 ? named('x') : [],
          results: { x: 'passed' },
        }),
      },
      TESTS_ONLY,
    );
    const [, second] = await run('suite', 2);

    const tests = (await get('/api/workflows/suite/tests')).json as TestInsight[];
    const record = await (await context.stores()).history.getRun(second as string);

    expect(record?.steps[0]).toMatchObject({ success: true });
    expect(record?.steps[0]?.data.results).toBeUndefined();
    expect(record?.steps[0]?.data.results_note).toBe('"results" is not a list: ignored');
    expect(tests).toEqual([expect.objectContaining({ test: 'x', failures: 1, passes: 1 })]);
  });
});

describe('submit_bugs with dedupe: true', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const DEDUPED = `
  pipeline:
    name: Pipeline
    steps:
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures, dedupe: true, dedupe_days: 7 }
`;

  it('submits a known failure once, lists what it left out, and submits a new error text', async () => {
    const known = { test: 'checkout', error: 'HTTP 500' };
    const { run, bugs, context } = await setUp(
      {
        test: (n) => ({
          total: 3,
          failed: n === 3 ? 2 : 1,
          failures: n === 3 ? [known, { test: 'checkout', error: 'timeout' }] : [known],
        }),
      },
      DEDUPED,
    );
    const ids = await run('pipeline', 3);

    const reports = bugs.calls('POST /api/v1/reports').map((r) => r.json);
    const { history } = await context.stores();
    const dataOf = async (id: string) => (await history.getRun(id))?.steps[1]?.data;

    // Run 1 submits it; run 2 submits nothing; run 3 only the same test's new error.
    expect(reports).toEqual([
      { failures: [known] },
      { failures: [{ test: 'checkout', error: 'timeout' }] },
    ]);
    expect(await dataOf(ids[0] as string)).toMatchObject({ submitted: 1, deduplicated: [] });
    expect(await dataOf(ids[1] as string)).toEqual({
      submitted: 0,
      deduplicated: ['checkout'],
      message: 'Every failure was submitted before (dedupe)',
    });
    expect(await dataOf(ids[2] as string)).toMatchObject({
      submitted: 1,
      deduplicated: ['checkout'],
    });
  });

  it('submits it again once dedupe_days have passed, and always submits failures that name no test', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T12:00:00Z'));
    const { run, bugs } = await setUp(
      {
        test: () => ({ total: 2, failed: 2, failures: [...named('slow'), { error: 'anonymous' }] }),
      },
      DEDUPED,
    );
    await run('pipeline');
    vi.setSystemTime(new Date('2026-03-07T12:00:00Z')); // six days later: within 7
    await run('pipeline');
    vi.setSystemTime(new Date('2026-03-08T12:00:01Z')); // seven days and a second after the first
    await run('pipeline');

    const reports = bugs.calls('POST /api/v1/reports').map((r) => r.json);

    expect(reports).toEqual([
      { failures: [...named('slow'), { error: 'anonymous' }] },
      { failures: [{ error: 'anonymous' }] },
      { failures: [...named('slow'), { error: 'anonymous' }] },
    ]);
  });

  it('without dedupe submits every failure every time', async () => {
    const { run, bugs } = await setUp(
      { test: () => ({ total: 1, failed: 1, failures: named('again') }) },
      DEDUPED.replace('dedupe: true', 'dedupe: false'),
    );
    await run('pipeline', 2);

    expect(bugs.calls('POST /api/v1/reports')).toHaveLength(2);
  });
});

describe('bad input', () => {
  it.each([
    ['window=0', 'window'],
    ['window=501', 'window'],
    ['window=ten', 'window'],
    ['flaky=maybe', 'flaky'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['offset=-1', 'offset'],
    ['sort=name', 'sort'],
  ])('GET …/tests?%s is a 400 naming %s', async (query, parameter) => {
    const { get } = await setUp({ test: () => ({}) }, TESTS_ONLY);

    const answer = await get('/api/workflows/suite/tests', query);

    expect(answer.status).toBe(400);
    expect((answer.json as { message: string }).message).toContain(parameter);
  });

  it.each([
    ['days=0', 'days'],
    ['days=366', 'days'],
    ['days=1e2', 'days'],
    ['window=5', 'window'],
  ])('GET …/stats?%s is a 400 naming %s', async (query, parameter) => {
    const { get } = await setUp({ test: () => ({}) }, TESTS_ONLY);

    const answer = await get('/api/workflows/suite/stats', query);

    expect(answer.status).toBe(400);
    expect((answer.json as { message: string }).message).toContain(parameter);
  });

  it.each(['tests', 'stats'])('GET …/%s of an unknown workflow is a 404', async (what) => {
    const { get } = await setUp({ test: () => ({}) }, TESTS_ONLY);

    const answer = await get(`/api/workflows/nope/${what}`);

    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ error: 'not_found' });
  });
});
