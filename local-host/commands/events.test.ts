import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { StoredEvent } from '#shared/events/event-store.ts';
import { runAegis, runAegisInProcess, spawnAegis } from '#test/support/cli-process.ts';
import { eventually, startTestHost } from '#test/support/host.ts';
import { QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';

/**
 * `aegis events` and `aegis run --follow` (SPEC §13), run as processes: the
 * newest events from the database or a host, and the live stream from a host.
 */

async function project(extra = '') {
  const qa = await stubForTest(QA_AGENT_ROUTES);
  const dir = tempDir();
  const yaml = `history_db_path: ${join(dir, 'history.db')}
${extra}
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  down: { name: Down, url: "http://127.0.0.1:9" }
workflows:
  smoke:
    name: Smoke
    steps:
      - { type: discover, service: qaagent }
      - { type: report, service: qaagent }
  broken:
    name: Broken
    steps: [{ type: discover, service: down }]
`;
  writeConfig(yaml, dir);
  return { qa, dir, yaml };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as StoredEvent);

/** A following process's stdout, once it holds `count` lines. */
const linesOf = (running: { stdout: () => string }, count: number, timeoutMs = 5_000) =>
  eventually(
    () => {
      const lines = running.stdout().split('\n').filter(Boolean);
      return lines.length >= count ? lines : undefined;
    },
    timeoutMs,
    `${count} lines`,
  );

describe('aegis events', () => {
  it('prints the newest events from the database, oldest first, filtered', async () => {
    // Prepare
    const { dir } = await project();
    await runAegisInProcess(['run', 'smoke'], { cwd: dir });
    await runAegisInProcess(['run', 'broken'], { cwd: dir });
    // Act
    const all = await runAegis(['events', '--limit', '5'], { cwd: dir });
    const broken = await runAegis(['events', '--workflow', 'broken', '--json'], { cwd: dir });
    const failures = await runAegisInProcess(['events', '--event-type', 'failure.detected'], {
      cwd: dir,
    });
    const bad = await runAegisInProcess(['events', '--event-type', 'failed'], { cwd: dir });
    // Assess
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/workflow\.completed\s+smoke\s+\S+\s+✓ succeeded: 2 passed/);
    expect(lines[4]).toMatch(/workflow\.completed\s+broken\s+\S+\s+✗ failed: 0 passed, 1 failed/);
    const events = jsonLines(broken.stdout);
    expect(events.map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'failure.detected',
      'workflow.completed',
    ]);
    expect(events.every((e) => e.workflow_name === 'broken' && Number.isInteger(e.id))).toBe(true);
    expect(failures.stdout).toMatch(
      /failure\.detected\s+broken\s+\S+\s+✗ discover \(down\) down GET \/api\/routes: connection refused/,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /--event-type: expected one of workflow\.started, .*workflow\.cancelled, got "failed"/,
    );
  });

  it("reads a host's /api/events with --url, sending AEGIS_API_KEY", async () => {
    // Prepare
    const { yaml } = await project(
      'auth:\n  protect_reads: true\n  keys: [{ name: cli, key: cli-key-1, scopes: [read, run] }]',
    );
    const { url, context } = await startTestHost(yaml);
    await context.runWorkflow('smoke');
    const dir = tempDir();
    // Act
    const keyed = await runAegis(['events', '--url', url, '--run', 'nope'], {
      cwd: dir,
      env: { AEGIS_API_KEY: 'cli-key-1' },
    });
    const listed = await runAegis(['events', '--url', url, '--json'], {
      cwd: dir,
      env: { AEGIS_API_KEY: 'cli-key-1' },
    });
    const refused = await runAegis(['events', '--url', url], { cwd: dir });
    // Assess
    expect(keyed).toMatchObject({ code: 0, stdout: 'No events recorded (yet).\n' });
    expect(jsonLines(listed.stdout).map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'step.completed',
      'workflow.completed',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/HTTP 401: /);
  });

  it('follows the stream, and after a dropped connection replays what it missed', async () => {
    // Prepare
    const { yaml, dir } = await project();
    const first = await startTestHost(yaml);
    const port = new URL(first.url).port;
    const follower = spawnAegis(['events', '--follow', '--url', first.url, '--json'], {
      cwd: tempDir(),
      timeoutMs: 30_000,
    });
    onTestFinished(() => void follower.child.kill('SIGKILL'));
    await eventually(() => (first.context.eventFeed.size === 1 ? true : undefined), 10_000);
    // Act: a run while connected; a run while no host serves; a run after a new host took the port.
    await first.context.runWorkflow('smoke');
    await linesOf(follower, 4);
    await first.host.close({ graceMs: 0 });
    await runAegisInProcess(['run', 'broken'], { cwd: dir });
    const second = await startTestHost(yaml, { port: Number(port) });
    await linesOf(follower, 8, 10_000);
    await second.context.runWorkflow('smoke');
    const lines = await linesOf(follower, 12);
    follower.child.kill('SIGINT');
    const code = await follower.exited;
    // Assess
    const events = lines.map((line) => JSON.parse(line) as StoredEvent);
    expect(events.map((e) => e.workflow_name)).toEqual([
      ...Array(4).fill('smoke'),
      ...Array(4).fill('broken'),
      ...Array(4).fill('smoke'),
    ]);
    expect(events.map((e) => e.id)).toEqual([...Array(12).keys()].map((i) => i + 1));
    expect(follower.stderr()).toMatch(/connection to .* was lost .*reconnecting/);
    expect(follower.stderr()).toMatch(/reconnected/);
    expect(code).toBe(0);
  });

  it("ends with the host's reason when it refuses the stream", async () => {
    // Prepare
    const { yaml } = await project('auth:\n  protect_reads: true\n  api_key: only-key-1');
    const { url } = await startTestHost(yaml);
    // Act
    const refused = await runAegis(['events', '--follow', '--url', url], { cwd: tempDir() });
    const notUrl = await runAegisInProcess(['events', '--follow', '--url', 'ftp://x'], {
      cwd: tempDir(),
    });
    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/aegis: http:\/\/127\.0\.0\.1:\d+: HTTP 401: /);
    expect(notUrl.code).toBe(1);
    expect(notUrl.stderr).toMatch(/--url: expected an http\(s\) URL/);
  });
});

describe('aegis run --follow', () => {
  it('prints each event of the run as it happens, then the verdict', async () => {
    // Prepare
    const { dir } = await project();
    // Act
    const readable = await runAegis(['run', 'broken', '--follow'], { cwd: dir });
    const json = await runAegis(['run', 'smoke', '--follow', '--json'], { cwd: dir });
    // Assess
    expect(readable.code).toBe(1);
    const lines = readable.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Running broken/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[1])).toEqual([
      'workflow.started',
      'step.completed',
      'failure.detected',
      'workflow.completed',
    ]);
    expect(lines[5]).toMatch(/✗ broken failed/);
    expect(json.code).toBe(0);
    expect(jsonLines(json.stdout).map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'step.completed',
      'workflow.completed',
    ]);
  });

  it('with --async, queues the run for a host and follows it there to its end', async () => {
    // Prepare
    const { yaml, dir } = await project();
    const { url } = await startTestHost(yaml);
    // Act
    const ok = await runAegis(['run', 'smoke', '--async', '--follow', '--url', url], { cwd: dir });
    const failed = await runAegis(
      ['run', 'broken', '--async', '--follow', '--url', url, '--json'],
      {
        cwd: dir,
      },
    );
    // Assess
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/queued run \S+; following it on http/);
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(/workflow\.completed\s+smoke.*✓ succeeded/);
    expect(failed.code).toBe(1);
    const events = jsonLines(failed.stdout);
    expect(events.map((e) => e.event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'failure.detected',
      'workflow.completed',
    ]);
  });
});
