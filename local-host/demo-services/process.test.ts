import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AEGIS_BIN } from '#test/support/cli-process.ts';

/** The built `aegis` (vitest's global setup builds it from these sources). */
const bundle = AEGIS_BIN;

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
}

function launch(args: readonly string[]): Running {
  const child = spawn(process.execPath, [bundle, 'demo-services', ...args], {
    env: { PATH: process.env.PATH },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return code;
}

describe('aegis demo-services as a process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    it(`serves until ${signal}, then exits 0`, async () => {
      const running = launch(['--port', '0']);
      await expect.poll(running.stdout, { timeout: 10_000 }).toContain('Press Ctrl-C to stop.');
      const url = /QA agent +(http:\/\/\S+)/.exec(running.stdout())?.[1];
      const health = await fetch(`${url}/health`, { keepalive: true });
      expect(await health.json()).toEqual({ status: 'ok', service: 'qa-agent' });
      running.child.kill(signal);
      expect(await exitCode(running.child)).toBe(0);
      expect(running.stdout()).toContain(`${signal}: stopping the demo services`);
      expect(running.stdout()).toContain('Demo services stopped.');
    });

  it('exits 1 with one line for an invalid --port', async () => {
    const running = launch(['--port', 'eighty']);
    expect(await exitCode(running.child)).toBe(1);
    expect(running.stderr()).toBe(
      'aegis: --port: expected an integer from 0 to 65525 (the bug tracker listens on --port + 10), got "eighty"\n',
    );
  });
});
