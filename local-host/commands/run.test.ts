import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import { openStores } from '#shared/stores.ts';
import type { RunResult } from '#shared/workflow/types.ts';
import { runAegis, runAegisInProcess } from '#test/support/cli-process.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  type StubRoute,
  stubForTest,
} from '#test/support/stub-service.ts';
import { servicesYaml, tempDir, writeConfig } from '#test/support/temp.ts';

/** Each stub lives for the test that starts it. */
const stub = stubForTest;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** A project directory with `.aegis.yaml` and its own history file. */
function project(yaml: string): { dir: string; env: Record<string, string> } {
  const dir = dirname(writeConfig(yaml));
  return { dir, env: { AEGIS_DB_PATH: join(dir, 'history.db') } };
}

/** Services `qaagent` and `bugalizer` on stubs, plus `workflows` YAML. */
async function pipeline(
  workflowsYaml: string,
  routes: { qa?: Record<string, StubRoute>; bugs?: Record<string, StubRoute> } = {},
  extraYaml = '',
) {
  const qa = await stub(routes.qa ?? QA_AGENT_ROUTES);
  const bugs = await stub(routes.bugs ?? BUG_TRACKER_ROUTES);
  const yaml = `${servicesYaml({ qaagent: qa.url, bugalizer: bugs.url })}workflows:\n${workflowsYaml}${extraYaml}`;
  return { qa, bugs, yaml, ...project(yaml) };
}

const FULL = `  full:
    name: Full QA Pipeline
    steps:
      - {type: discover, service: qaagent}
      - {type: test, service: qaagent}
      - {type: submit_bugs, service: bugalizer, condition: has_failures}
      - {type: verify, service: qaagent, condition: on_failure}
      - {type: report, service: qaagent}
  smoke:
    name: Smoke
    steps:
      - {type: discover, service: qaagent}
`;

/** Runs the CLI in-process (it counts toward coverage), collecting what it writes. */
const cli = (args: string[], cwd: string, env: Record<string, string | undefined> = {}) =>
  runAegisInProcess(args, { cwd, env });

async function historyOf(yaml: string, dir: string, env: Record<string, string>) {
  const { config } = parseConfig(yaml, join(dir, '.aegis.yaml'), env, dir);
  const stores = await openStores(config, env);
  onTestFinished(() => stores.db.close());
  return stores;
}

describe('aegis run (a real process)', () => {
  it('runs a workflow: ✓ per step, exit 0, and records the run in the history', async () => {
    const { dir, env, yaml, qa, bugs } = await pipeline(FULL);
    const { code, stdout, stderr } = await runAegis(['run', 'full'], { cwd: dir, env });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Running full \(Full QA Pipeline, 5 steps, run [0-9a-f-]{36}\)$/);
    expect(lines[1]).toMatch(/^ {2}✓ 1\. discover \(qaagent\) {2}\d+ ms {2}2 routes$/);
    expect(lines[2]).toMatch(/^ {2}✓ 2\. test \(qaagent\) {2}\d+ ms {2}2\/3 passed, 1 failed$/);
    expect(lines[3]).toMatch(/^ {2}✓ 3\. submit_bugs \(bugalizer\) {2}\d+ ms {2}1 submitted$/);
    expect(lines[4]).toBe("  ⊘ 4. verify (qaagent)  Skipped: condition 'on_failure' not met");
    expect(lines[5]).toMatch(/^ {2}✓ 5\. report \(qaagent\) {2}\d+ ms$/);
    expect(lines[6]).toMatch(/^✓ full succeeded in \d+ ms run [0-9a-f-]{36}$/);
    expect(lines).toHaveLength(7);
    expect(qa.calls('POST /api/runs')).toHaveLength(1);
    expect(bugs.calls('POST /api/v1/reports')).toHaveLength(1);

    const runId = UUID.exec(lines[6] ?? '')?.[0];
    const { history, events } = await historyOf(yaml, dir, env);
    const runs = await history.listRuns({ limit: 10 });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      run_id: runId,
      workflow_name: 'full',
      status: 'completed',
      success: true,
      step_count: 5,
    });
    expect(runs[0]?.steps.map((s) => [s.step_type, s.success, s.skipped])).toEqual([
      ['discover', true, false],
      ['test', true, false],
      ['submit_bugs', true, false],
      ['verify', true, true],
      ['report', true, false],
    ]);
    const stored = await events.list({ limit: 20 });
    expect(stored.map((e) => e.event_type).reverse()).toEqual([
      'workflow.started',
      ...Array(5).fill('step.completed'),
      'workflow.completed',
    ]);
    expect(stored.every((e) => e.run_id === runId)).toBe(true);
  });

  it('exits 1 on a failing step and prints ✗ with its error', async () => {
    const { dir, env, yaml } = await pipeline(FULL, {
      qa: { ...QA_AGENT_ROUTES, 'POST /api/runs': { status: 503 } },
    });
    const { code, stdout } = await runAegis(['run', 'full'], { cwd: dir, env });
    expect(code).toBe(1);
    expect(stdout).toMatch(
      / {2}✗ 2\. test \(qaagent\) {2}\d+ ms {2}qaagent POST \/api\/runs: HTTP 503\n/,
    );
    // The failure set off has_failures and on_failure; the skipped lines say why.
    expect(stdout).toMatch(/✓ 3\. submit_bugs \(bugalizer\) {2}\d+ ms {2}0 submitted/);
    expect(stdout).toMatch(/✗ full failed in \d+ ms run /);
    const { history } = await historyOf(yaml, dir, env);
    expect((await history.listRuns({ limit: 1 }))[0]).toMatchObject({
      status: 'completed',
      success: false,
    });
  });

  it('prints a skipped step with ⊘ and the reason', async () => {
    const { dir, env } = await pipeline(`  guarded:
    name: Guarded
    steps:
      - {type: discover, service: qaagent}
      - {type: submit_bugs, service: bugalizer, condition: on_failure}
`);
    const { code, stdout } = await runAegis(['run', 'guarded'], { cwd: dir, env });
    expect(code).toBe(0);
    expect(stdout).toContain(
      "  ⊘ 2. submit_bugs (bugalizer)  Skipped: condition 'on_failure' not met\n",
    );
  });

  it('exits 1 on an unknown workflow, listing the known ones, without a stack trace', async () => {
    const { dir, env } = await pipeline(FULL);
    const { code, stdout, stderr } = await runAegis(['run', 'nightly'], { cwd: dir, env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('aegis: unknown workflow "nightly" (known: full, smoke)\n');
  });

  it('--json prints only the run result on stdout; logs go to stderr', async () => {
    const receiver = await stub({ 'POST /hook': { body: {} } });
    const { dir, env, qa } = await pipeline(
      FULL,
      {},
      `webhooks:\n  - url: ${receiver.url}/hook\n    events: ["*"]\n`,
    );
    const { code, stdout, stderr } = await runAegis(['run', 'full', '--json'], {
      cwd: dir,
      env: { ...env, LOG_LEVEL: 'DEBUG' },
    });
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as RunResult;
    expect(Object.keys(result).sort()).toEqual(
      [
        'completed_at',
        'duration_ms',
        'reason',
        'run_id',
        'started_at',
        'status',
        'steps',
        'success',
        'workflow_name',
      ].sort(),
    );
    expect(result).toMatchObject({ workflow_name: 'full', success: true, status: 'completed' });
    expect(result.steps.map((s) => s.step_type)).toEqual([
      'discover',
      'test',
      'submit_bugs',
      'verify',
      'report',
    ]);
    expect(result.steps[1]?.data).toMatchObject({ total: 3, failed: 1 });
    expect(qa.requests.length).toBeGreaterThan(0);
    // The webhook worker logged its attempts, as JSON lines on stderr.
    const logs = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.some((l) => l.message === 'webhook attempt')).toBe(true);
    expect(receiver.calls('POST /hook')).toHaveLength(7);
  });

  it('--fail-on-test-failures exits 1 when a test step reported failures, though the run succeeded', async () => {
    const { dir, env } = await pipeline(FULL);
    const plain = await runAegis(['run', 'full'], { cwd: dir, env });
    expect(plain.code).toBe(0);
    const gated = await runAegis(['run', 'full', '--fail-on-test-failures'], { cwd: dir, env });
    expect(gated.code).toBe(1);
    expect(gated.stdout).toMatch(
      /✗ full failed \(tests reported failures; --fail-on-test-failures\) in \d+ ms run /,
    );
    const json = await runAegis(['run', 'full', '--json', '--fail-on-test-failures'], {
      cwd: dir,
      env,
    });
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as RunResult).success).toBe(true);
  });

  it('exits 1 with a one-line message naming the path when the history cannot be written', async () => {
    const { dir, qa } = await pipeline(FULL);
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where a directory should be');
    const dbPath = join(blocker, 'history.db');
    const { code, stdout, stderr } = await runAegis(['run', 'full'], {
      cwd: dir,
      env: { AEGIS_DB_PATH: dbPath },
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^aegis: .*/);
    expect(stderr).toContain(dbPath);
    // Nothing ran: the path fails before the first step.
    expect(qa.requests).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux')(
    'exits 1 naming the path for a history under /proc, without hanging',
    async () => {
      const { dir } = await pipeline(FULL);
      const dbPath = '/proc/aegis-no-such-dir/history.db';
      const { code, stderr } = await runAegis(['run', 'smoke'], {
        cwd: dir,
        env: { AEGIS_DB_PATH: dbPath },
        timeoutMs: 10_000,
      });
      expect(code).toBe(1);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toContain(dbPath);
    },
  );
});

describe('aegis run (in-process)', () => {
  it('sends its own webhook deliveries before it exits and says so', async () => {
    const receiver = await stub({ 'POST /hook': { body: {} } });
    const { dir, env } = await pipeline(FULL, {}, `webhooks:\n  - url: ${receiver.url}/hook\n`);
    const { code, stdout } = await cli(['run', 'smoke'], dir, env);
    expect(code).toBe(0);
    expect(stdout).toContain('webhooks: 1 delivered\n');
    const [delivery] = receiver.calls('POST /hook');
    expect(delivery?.json).toMatchObject({
      event_type: 'workflow.completed',
      workflow_name: 'smoke',
    });
  });

  it('retries a delivery that is due again within its budget', async () => {
    const receiver = await stub({
      'POST /hook': (_req, n) =>
        n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { body: {} },
    });
    const { dir, env } = await pipeline(FULL, {}, `webhooks:\n  - url: ${receiver.url}/hook\n`);
    const { code, stdout } = await cli(['run', 'smoke'], dir, env);
    expect(code).toBe(0);
    expect(stdout).toContain('webhooks: 1 delivered\n');
    expect(receiver.calls('POST /hook')).toHaveLength(2);
  });

  it('leaves a delivery that is not due within the budget queued for the host', async () => {
    const receiver = await stub({
      'POST /hook': { status: 503, headers: { 'retry-after': '60' } },
    });
    const { dir, env } = await pipeline(FULL, {}, `webhooks:\n  - url: ${receiver.url}/hook\n`);
    const started = performance.now();
    const { code, stdout } = await cli(['run', 'smoke'], dir, env);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'webhooks: 0 delivered, 1 still queued; `aegis serve` will keep retrying\n',
    );
  });

  it('reports deliveries that failed for good', async () => {
    const receiver = await stub({ 'POST /hook': { status: 400 } });
    const { dir, env } = await pipeline(FULL, {}, `webhooks:\n  - url: ${receiver.url}/hook\n`);
    const { stdout } = await cli(['run', 'smoke'], dir, env);
    expect(stdout).toContain(
      'webhooks: 0 delivered, 1 failed (see GET /api/webhooks/deliveries)\n',
    );
  });

  it('prints every step and the verdict, and gates on reported test failures', async () => {
    const { dir, env } = await pipeline(FULL);
    const plain = await cli(['run', 'full'], dir, env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(
      "  ⊘ 4. verify (qaagent)  Skipped: condition 'on_failure' not met\n",
    );
    expect(plain.stdout).toMatch(/✓ full succeeded in \d+ ms run /);
    const gated = await cli(['run', 'full', '--fail-on-test-failures'], dir, env);
    expect(gated.code).toBe(1);
    expect(gated.stdout).toContain('(tests reported failures; --fail-on-test-failures)');
  });

  it('--json prints the run result alone', async () => {
    const { dir, env } = await pipeline(FULL);
    const { code, stdout } = await cli(['run', 'smoke', '--json'], dir, env);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as RunResult;
    expect(result).toMatchObject({ workflow_name: 'smoke', success: true });
    expect(result.steps).toHaveLength(1);
  });

  it('passes a run without test failures through --fail-on-test-failures', async () => {
    const { dir, env } = await pipeline(FULL, {
      qa: { ...QA_AGENT_ROUTES, 'POST /api/runs': { body: { total: 1, passed: 1 } } },
    });
    const { code } = await cli(['run', 'full', '--fail-on-test-failures'], dir, env);
    expect(code).toBe(0);
  });

  it('says how many attempts a failed step made', async () => {
    const { dir, env } = await pipeline(
      `  flaky:
    name: Flaky
    steps:
      - {type: discover, service: qaagent, retries: 2, retry_delay: 0.01}
`,
      { qa: { 'GET /api/routes': { status: 500 } } },
    );
    const { code, stdout } = await cli(['run', 'flaky'], dir, env);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^Running flaky \(Flaky, 1 step, run [0-9a-f-]{36}\)\n/);
    expect(stdout).toMatch(
      /✗ 1\. discover \(qaagent\) {2}\d+ ms {2}qaagent GET \/api\/routes: HTTP 500 after 3 attempts\n/,
    );
  });

  it('prints a verify step with its counts and every step of a parallel batch', async () => {
    const { dir, env } = await pipeline(`  both:
    name: Both
    steps:
      - {type: test, service: qaagent, parallel: true}
      - {type: verify, service: qaagent, parallel: true}
`);
    const { code, stdout } = await cli(['run', 'both'], dir, env);
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ 1\. test \(qaagent\) {2}\d+ ms {2}2\/3 passed, 1 failed\n/);
    expect(stdout).toMatch(/✓ 2\. verify \(qaagent\) {2}\d+ ms {2}3\/3 passed, 0 failed\n/);
  });

  it('takes --config and records into the history it names', async () => {
    const { yaml, env } = await pipeline(FULL);
    const elsewhere = tempDir();
    const configPath = writeConfig(yaml, tempDir());
    const { code } = await cli(['run', 'smoke', '--config', configPath], elsewhere, env);
    expect(code).toBe(0);
    const { history } = await historyOf(yaml, dirname(configPath), env);
    expect(await history.listRuns({ limit: 5 })).toHaveLength(1);
  });

  it('exits 1 and says where it looked when there is no config', async () => {
    const dir = tempDir();
    const { code, stderr } = await cli(['run', 'full'], dir, {});
    expect(code).toBe(1);
    expect(stderr).toMatch(/^aegis: .*\.aegis\.yaml/);
  });

  it('exits 1 with usage when the workflow is missing', async () => {
    const { dir, env } = await pipeline(FULL);
    const { code, stderr } = await cli(['run'], dir, env);
    expect(code).toBe(1);
    expect(stderr).toContain("missing required argument 'workflow'");
  });

  it('--help explains the options and the exit status', async () => {
    const { code, stdout } = await cli(['run', '--help'], tempDir());
    expect(code).toBe(0);
    expect(stdout).toContain('--fail-on-test-failures');
    expect(stdout).toContain('--json');
    expect(stdout).toContain('Exit status');
  });
});
