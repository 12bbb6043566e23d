import { describe, expect, it } from 'vitest';
import { type RunningAegis, spawnAegis } from '#test/support/cli-process.ts';

const launch = (args: readonly string[]): RunningAegis => spawnAegis(['demo-services', ...args]);

describe('aegis demo-services as a process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    it(`serves until ${signal}, then exits 0`, async () => {
      const running = launch(['--port', '0']);
      await expect.poll(running.stdout, { timeout: 10_000 }).toContain('Press Ctrl-C to stop.');
      const url = /QA agent +(http:\/\/\S+)/.exec(running.stdout())?.[1];
      const health = await fetch(`${url}/health`, { keepalive: true });
      expect(await health.json()).toEqual({ status: 'ok', service: 'qa-agent' });
      running.child.kill(signal);
      expect(await running.exited).toBe(0);
      expect(running.stdout()).toContain(`${signal}: stopping the demo services`);
      expect(running.stdout()).toContain('Demo services stopped.');
    });

  it('exits 1 with one line for an invalid --port', async () => {
    const running = launch(['--port', 'eighty']);
    expect(await running.exited).toBe(1);
    expect(running.stderr()).toBe(
      'aegis: --port: expected an integer from 0 to 65525 (the bug tracker listens on --port + 10), got "eighty"\n',
    );
  });
});
