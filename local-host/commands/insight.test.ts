import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestInsight, WorkflowStats } from '#shared/insight/insight-store.ts';
import { runAegis, runAegisInProcess } from '#test/support/cli-process.ts';
import { type StubRoute, stubForTest } from '#test/support/stub-service.ts';
import { writeConfig } from '#test/support/temp.ts';

/** A QA agent whose n-th test run fails `always`, and `flipping` on odd runs. */
function flippingAgent(): Record<string, StubRoute> {
  return {
    'POST /api/runs': (_request, n) => {
      const failures = [{ test: 'always', error: 'boom' }];
      if (n % 2 === 1) failures.push({ test: 'flipping', error: 'sometimes' });
      return { body: { total: 4, passed: 4 - failures.length, failed: failures.length, failures } };
    },
  };
}

/** A project over a stub agent, with `runs` runs of `suite` already recorded through `aegis run`. */
async function project(runs: number): Promise<string> {
  const qa = await stubForTest(flippingAgent());
  const dir = dirname(
    writeConfig(`
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  suite:
    name: Suite
    steps:
      - { type: test, service: qaagent }
`),
  );
  for (let i = 0; i < runs; i++) {
    const { code } = await runAegisInProcess(['run', 'suite'], { cwd: dir });
    expect(code).toBe(0);
  }
  return dir;
}

const cli = (args: string[], cwd: string) => runAegisInProcess(args, { cwd });

describe('aegis tests', () => {
  it('--json prints what GET /api/workflows/{name}/tests answers (a real process)', async () => {
    const dir = await project(4);

    const { code, stdout, stderr } = await runAegis(['tests', 'suite', '--json'], { cwd: dir });

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const tests = JSON.parse(stdout) as TestInsight[];
    expect(
      tests.map(({ test, failures, passes, flips, flaky }) => [
        test,
        failures,
        passes,
        flips,
        flaky,
      ]),
    ).toEqual([
      ['flipping', 2, 2, 3, true],
      ['always', 4, 0, 0, false],
    ]);
  });

  it('prints a table, flaky first; --flaky and --window narrow it', async () => {
    const dir = await project(4);

    const all = await cli(['tests', 'suite'], dir);
    const flaky = await cli(['tests', 'suite', '--flaky'], dir);
    const lastRun = await cli(['tests', 'suite', '--window', '1'], dir);

    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('suite: 2 tests over its last 50 runs with tests, 1 flaky');
    expect(lines[1]).toMatch(
      /^TEST\s+FLAKY\s+FAILED\s+PASSED\s+FLIPS\s+FAILURE RATE\s+LAST FAILED \(RUN\)$/,
    );
    expect(lines[2]).toMatch(
      /^flipping\s+flaky\s+2\s+2\s+3\s+50\.0 %\s+\d{4}-\d\d-\d\dT\S+ \(\S+\)$/,
    );
    expect(lines[3]).toMatch(/^always\s+4\s+0\s+0\s+100\.0 %/);
    expect(flaky.stdout.split('\n').slice(2, -1)).toEqual([expect.stringMatching(/^flipping\s/)]);
    // The 4th run alone: `flipping` passed there, never failed in the window.
    expect(lastRun.stdout).toMatch(/^flipping\s+0\s+1\s+0\s+0\.0 %\s+-$/m);
  });

  it('says so when nothing is recorded, and rejects a bad --window or an unknown workflow', async () => {
    const dir = await project(0);

    const empty = await cli(['tests', 'suite'], dir);
    const badWindow = await cli(['tests', 'suite', '--window', '501'], dir);
    const unknown = await cli(['tests', 'nope'], dir);

    expect(empty).toMatchObject({
      code: 0,
      stdout: 'No tests recorded in the last 50 runs of suite.\n',
    });
    expect(badWindow).toMatchObject({
      code: 1,
      stderr: 'aegis: --window: expected a whole number from 1 to 500, got "501"\n',
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^aegis: .*"nope"/);
  });
});

describe('aegis stats', () => {
  it('--json prints what GET /api/workflows/{name}/stats answers; the text sums it up', async () => {
    const dir = await project(3);

    const json = await cli(['stats', 'suite', '--json', '--days', '7'], dir);
    const text = await cli(['stats', 'suite'], dir);

    expect(json.code).toBe(0);
    const stats = JSON.parse(json.stdout) as WorkflowStats;
    expect(stats).toMatchObject({
      days: 7,
      runs: 3,
      succeeded: 3,
      failed: 0,
      success_rate: 1,
      tests: { total: 12, failed: 5 },
    });
    expect(stats.by_day).toHaveLength(7);
    expect(stats.by_day.at(-1)).toMatchObject({ runs: 3, succeeded: 3 });
    expect(stats.duration_ms.p50).toBeGreaterThan(0);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('suite: the last 30 days (UTC, since ');
    expect(text.stdout).toContain(
      '  runs:          3 (3 succeeded, 0 failed, 0 cancelled, 0 interrupted)',
    );
    expect(text.stdout).toContain('  success rate:  100.0 % of the completed runs');
    expect(text.stdout).toContain('  tests:         12 counted, 5 failed (41.7 %)');
    expect(text.stdout).toMatch(
      /^DATE\s+RUNS\s+SUCCEEDED\s+FAILED\s+P50\n\d{4}-\d\d-\d\d\s+3\s+3\s+0\s+\d+ ms$/m,
    );
  });

  it('rejects --days outside 1..365', async () => {
    const dir = await project(0);

    const answer = await cli(['stats', 'suite', '--days', '0'], dir);

    expect(answer).toMatchObject({
      code: 1,
      stderr: 'aegis: --days: expected a whole number from 1 to 365, got "0"\n',
    });
  });
});

describe('aegis runs list', () => {
  it("shows what each run's test steps counted", async () => {
    const dir = await project(2);

    const { code, stdout } = await cli(['runs', 'list', '--workflow', 'suite'], dir);

    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/\sSTEPS\s+TESTS$/);
    // Run 2 failed `always` only, run 1 `flipping` too.
    expect(lines.slice(1).map((line) => line.match(/\d+\/\d+ passed$/)?.[0])).toEqual([
      '3/4 passed',
      '2/4 passed',
    ]);
  });
});
