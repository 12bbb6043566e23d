import { describe, expect, it } from 'vitest';
import { runAegis, spawnAegis } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';

const CONFIG = `
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`;

/** Every command, each as a user would type it. */
const COMMANDS = [
  ['serve', '--host', '127.0.0.1', '--port', '0'],
  ['run', 'smoke'],
  ['status'],
  ['config', 'validate'],
  ['config', 'show'],
  ['healthcheck', '--url', 'http://127.0.0.1:9/health'],
  ['invoke', 'health'],
  ['demo-services', '--port', '0'],
];

describe('LOG_LEVEL and LOG_FORMAT with a value Aegis does not know', () => {
  it.each([
    [
      { LOG_LEVEL: 'LOUD' },
      'aegis: LOG_LEVEL is "LOUD", which is not a log level (valid, in any case: DEBUG, INFO, WARN, ERROR, SILENT)\n',
    ],
    [
      { LOG_FORMAT: 'fancy' },
      'aegis: LOG_FORMAT is "fancy", which is not a log format (valid: pretty, json; unset: pretty on a terminal, json otherwise)\n',
    ],
  ])('%o makes every command exit 1 with one line naming the valid values', async (env, line) => {
    const dir = tempDir();
    writeConfig(CONFIG, dir);

    const results = await Promise.all(
      COMMANDS.map((args) => runAegis(args, { cwd: dir, env, timeoutMs: 10_000 })),
    );

    for (const [i, result] of results.entries()) {
      const command = COMMANDS[i]?.join(' ');
      expect({ command, code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({
        command,
        code: 1,
        stderr: line,
        stdout: '',
      });
    }
  });

  it('takes a known level in any case', async () => {
    const dir = tempDir();
    writeConfig(CONFIG, dir);

    const result = await runAegis(['config', 'validate'], {
      cwd: dir,
      env: { LOG_LEVEL: 'debug' },
    });

    expect(result.code).toBe(0);
  });
});

describe('LOG_FORMAT=pretty', () => {
  it('makes `aegis serve` log readable lines on stdout, a pipe included', async () => {
    const dir = tempDir();
    writeConfig(CONFIG, dir);
    const host = spawnAegis(['serve', '--host', '127.0.0.1', '--port', '0'], {
      cwd: dir,
      env: { LOG_FORMAT: 'pretty' },
    });

    const first = await eventually(
      () => host.stdout().split('\n')[0] || undefined,
      10_000,
      `the first log line (stderr: ${host.stderr()})`,
    );
    host.child.kill('SIGTERM');

    expect(first).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}Aegis listening on http:\/\/127\.0\.0\.1:\d+ \(dashboard at \/, API description at \/openapi\.json\) url=http:\/\/127\.0\.0\.1:\d+ config=\S+ database=\S+ services=1 workflows=1 webhooks=0 run_workers=4$/,
    );
    expect(await host.exited).toBe(0);
    expect(host.stdout()).toMatch(/ INFO {2}Aegis stopped\n$/);
  });
});
