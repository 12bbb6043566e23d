import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '#test/support/temp.ts';
import { NODE_FLAGS, RUNTIME_ENV, SHEBANG } from './node-flags.mjs';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'aegis.mjs');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The flags between `node` and the script in the Dockerfile's exec-form ENTRYPOINT. */
function entrypointFlags(): string[] {
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(DOCKERFILE)?.[1];
  const words = JSON.parse(line ?? '[]') as string[];
  return words.filter((word) => word.startsWith('--'));
}

/** NAME=value pairs of the Dockerfile's ENV instructions (continued lines joined). */
function dockerfileEnv(): Record<string, string> {
  const joined = DOCKERFILE.replace(/\\\n\s*/g, ' ');
  const pairs = [...joined.matchAll(/^ENV (.*)$/gm)].flatMap((match) =>
    (match[1] ?? '').trim().split(/\s+/),
  );
  return Object.fromEntries(pairs.map((pair) => pair.split('=', 2) as [string, string]));
}

/** A process's NUL-separated /proc file, as a list. */
const procList = (pid: number | undefined, file: string) =>
  readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);

describe('how aegis starts node (infra/node-flags.mjs)', () => {
  it('is how the container starts it', () => {
    expect(entrypointFlags()).toEqual(NODE_FLAGS);
    expect(dockerfileEnv()).toMatchObject(RUNTIME_ENV);
  });

  it('is in the CLI bundle’s shebang, which runs the bundle as a command', async () => {
    const [shebang] = readFileSync(CLI, 'utf8').split('\n', 1);
    expect(shebang).toBe(SHEBANG);
    // Started as a command, as npx does: env sets the variables and execs node with the flags.
    const dir = tempDir();
    const environment = { ...process.env, MALLOC_ARENA_MAX: undefined };
    const child = spawn(CLI, ['serve', '--port', '0'], {
      cwd: dir,
      stdio: 'ignore',
      env: environment,
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    await expect
      .poll(() => procList(child.pid, 'cmdline'), { timeout: 10_000 })
      .toEqual(['node', ...NODE_FLAGS, CLI, 'serve', '--port', '0']);
    const variables = procList(child.pid, 'environ');
    for (const [name, value] of Object.entries(RUNTIME_ENV))
      expect(variables).toContain(`${name}=${value}`);
  });
});
