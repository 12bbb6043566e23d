import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAegis, runAegisInProcess, spawnAegis } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';
import { QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { writeConfig } from '#test/support/temp.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** A project with a QA agent stub: `smoke` passes, `flaky` fails its test step the first time, `hangs` hangs there. */
async function project() {
  const qa = await stubForTest({
    ...QA_AGENT_ROUTES,
    'POST /api/runs': (request, call) => {
      const verify = (request.json as { verify_only?: boolean } | null)?.verify_only;
      if (request.headers['x-hang'] !== undefined || verify) return { delayMs: 60_000 };
      return call === 1 ? { status: 503 } : { body: { total: 2, passed: 2, failed: 0 } };
    },
  });
  const path = writeConfig(`
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke:
    name: Smoke
    steps: [{ type: discover, service: qaagent }]
  flaky:
    name: Flaky
    steps: [{ type: discover, service: qaagent }, { type: test, service: qaagent }]
  hangs:
    name: Hangs
    steps: [{ type: discover, service: qaagent }, { type: verify, service: qaagent, timeout: 120 }]
`);
  const dir = dirname(path);
  const env = { AEGIS_DB_PATH: join(dir, 'history.db') };
  const cli = (args: string[]) => runAegisInProcess(args, { cwd: dir, env });
  return { qa, dir, env, cli };
}

describe('aegis run --async and aegis runs', () => {
  it('queues a run without executing it, and `runs list` / `runs show` show it queued', async () => {
    const p = await project();

    const queued = await p.cli(['run', 'smoke', '--async']);
    const asJson = await p.cli(['run', 'smoke', '--async', '--json']);

    expect(queued.code).toBe(0);
    const runId = queued.stdout.trim();
    expect(runId).toMatch(UUID);
    expect(JSON.parse(asJson.stdout)).toMatchObject({
      status: 'queued',
      url: expect.stringMatching(/^\/api\/runs\//),
    });
    expect(p.qa.calls('GET /api/routes')).toHaveLength(0);
    const list = await p.cli(['runs', 'list']);
    expect(list.stdout.split('\n')[0]).toMatch(/^RUN\s+WORKFLOW\s+STATUS\s+TRIGGER\s+STARTED/);
    expect(list.stdout).toContain(runId);
    expect(list.stdout).toMatch(/queued\s+cli\s+queued /);
    const shown = await p.cli(['runs', 'show', runId]);
    expect(shown.stdout).toContain(`Run ${runId}`);
    expect(shown.stdout).toMatch(/status:\s+queued/);
    const json = JSON.parse((await p.cli(['runs', 'show', runId, '--json'])).stdout);
    expect(json).toMatchObject({ run_id: runId, status: 'queued', trigger: 'cli' });
  });

  it('filters the list by workflow and status, and says what is wrong with a bad option', async () => {
    const p = await project();
    await p.cli(['run', 'smoke']);
    await p.cli(['run', 'flaky', '--async']);

    const completed = JSON.parse(
      (await p.cli(['runs', 'list', '--status', 'completed', '--json'])).stdout,
    );
    const flaky = JSON.parse(
      (await p.cli(['runs', 'list', '--workflow', 'flaky', '--json'])).stdout,
    );

    expect(completed.map((r: { workflow_name: string }) => r.workflow_name)).toEqual(['smoke']);
    expect(flaky.map((r: { status: string }) => r.status)).toEqual(['queued']);
    const bad = await p.cli(['runs', 'list', '--status', 'done']);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.stderr).toContain(
      '--status: expected one of queued, running, completed, cancelled, interrupted, got "done"',
    );
    expect((await p.cli(['runs', 'list', '--limit', '0'])).stderr).toContain('--limit');
    expect((await p.cli(['runs', 'list', '--workflow', 'nope'])).stderr).toContain(
      'unknown workflow "nope"',
    );
    expect((await p.cli(['runs', 'show', 'nope'])).stderr).toContain('no run with id "nope"');
  });

  it('cancels a queued run, and exits 1 for one that has ended', async () => {
    const p = await project();
    const runId = (await p.cli(['run', 'smoke', '--async'])).stdout.trim();

    const cancelled = await p.cli(['runs', 'cancel', runId]);
    const again = await p.cli(['runs', 'cancel', runId]);

    expect(cancelled).toMatchObject({ code: 0 });
    expect(cancelled.stdout).toContain(`cancelled run ${runId} (it was still queued)`);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run ${runId} has already ended (cancelled)`);
  });

  it('reruns a failed run from its failed step, here, reusing the step before it', async () => {
    const p = await project();
    const failed = await p.cli(['run', 'flaky', '--json']);
    expect(failed.code).toBe(1);
    const parent = JSON.parse(failed.stdout) as { run_id: string };

    const rerun = await p.cli(['runs', 'rerun', parent.run_id]);

    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`Rerunning ${parent.run_id} from failed as`);
    expect(rerun.stdout).toMatch(/✓ 1\. discover \(qaagent\).*reused from the parent run/);
    expect(rerun.stdout).toMatch(/✓ 2\. test \(qaagent\).*2\/2 passed/);
    expect(p.qa.calls('GET /api/routes')).toHaveLength(1);
    expect((await p.cli(['runs', 'rerun', parent.run_id, '--from', 'middle'])).stderr).toContain(
      '--from: expected one of failed, start, got "middle"',
    );
  });

  it('waits for a run to end and exits as aegis run would; gives up at --timeout', async () => {
    const p = await project();
    const runId = (await p.cli(['run', 'smoke', '--async'])).stdout.trim();

    const early = await p.cli(['runs', 'wait', runId, '--timeout', '0.2']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`run ${runId} is still queued after 0.2 s`);
    const waiting = p.cli(['runs', 'wait', runId, '--timeout', '10']);
    // A host comes up and executes what waits in the queue.
    const host = spawnAegis(['serve', '--port', '0'], { cwd: p.dir, env: p.env });
    try {
      const waited = await waiting;
      expect(waited.code).toBe(0);
      expect(waited.stdout).toMatch(new RegExp(`✓ smoke succeeded in .* run ${runId}`));
    } finally {
      host.child.kill('SIGTERM');
      await host.exited;
    }
  });

  it('cancels, from another process, a run that `aegis run` is executing: it ends cancelled, exit 1', async () => {
    const p = await project();
    const running = spawnAegis(['run', 'hangs'], { cwd: p.dir, env: p.env, timeoutMs: 30_000 });
    const runId = await eventually(
      () => UUID.exec(running.stdout())?.[0],
      10_000,
      'the run to print its id',
    );
    await eventually(() => (p.qa.calls('POST /api/runs').length === 1 ? true : undefined));

    const cancel = await runAegis(['runs', 'cancel', runId], { cwd: p.dir, env: p.env });

    expect(cancel).toMatchObject({ code: 0 });
    expect(cancel.stdout).toContain(`asked run ${runId} to stop`);
    expect(await running.exited).toBe(1);
    expect(running.stdout()).toMatch(/⊘ hangs cancelled \(cancelled from the CLI\)/);
    expect(p.qa.calls('POST /api/runs')[0]?.aborted).toBe(true);
  });
});
