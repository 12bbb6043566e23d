import { describe, expect, it } from 'vitest';
import { runAegis, runAegisInProcess, spawnAegis } from '#test/support/cli-process.ts';
import { stubForTest } from '#test/support/stub-service.ts';
import { tempDir } from '#test/support/temp.ts';

/** The commands a help text lists under "Commands:" (without `help`). */
function commandsIn(help: string): string[] {
  const section = help.split('\nCommands:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1] ?? '')
    .filter((name) => name !== 'help');
}

/** Every command of `aegis`, subcommands as `config validate`. */
async function everyCommand(cwd: string, prefix: string[] = []): Promise<string[][]> {
  const help = (await runAegisInProcess([...prefix, '--help'], { cwd })).stdout;
  const subcommands = commandsIn(help);
  if (subcommands.length === 0) return [prefix];
  const nested = await Promise.all(subcommands.map((name) => everyCommand(cwd, [...prefix, name])));
  return nested.flat();
}

describe('--config, which the README says every command takes', () => {
  it('is an option of every command', async () => {
    const cwd = tempDir();
    const commands = await everyCommand(cwd);
    expect(commands.map((c) => c.join(' '))).toEqual(
      expect.arrayContaining(['serve', 'run', 'status', 'config validate', 'healthcheck']),
    );
    for (const command of commands) {
      const help = (await runAegisInProcess([...command, '--help'], { cwd })).stdout;
      expect(help, `aegis ${command.join(' ')} --help`).toMatch(/^ {2}--config <file> /m);
    }
  });

  it('is ignored by healthcheck, which says so and answers as without it', async () => {
    const host = await stubForTest({ 'GET /health': { body: { status: 'ok' } } });

    const result = await runAegis([
      'healthcheck',
      '--config',
      'no-such.yaml',
      '--url',
      `${host.url}/health`,
    ]);

    expect(result).toEqual({
      code: 0,
      stdout: `healthy: ${host.url}/health answered 200\n`,
      stderr: 'note: healthcheck reads no configuration; --config no-such.yaml is ignored\n',
    });
  });

  it('is ignored by demo-services, which says so and serves', async () => {
    const running = spawnAegis(['demo-services', '--port', '0', '--config', 'examples/x.yaml']);

    await expect.poll(running.stdout, { timeout: 10_000 }).toContain('Press Ctrl-C to stop.');
    running.child.kill('SIGTERM');

    expect(await running.exited).toBe(0);
    expect(running.stderr()).toBe(
      'note: demo-services reads no configuration; --config examples/x.yaml is ignored\n',
    );
  });
});
