import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '#test/support/temp.ts';
import { NODE_FLAGS } from './node-flags.mjs';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'aegis.mjs');

/** The flags between `node` and the script in the Dockerfile's exec-form ENTRYPOINT. */
function entrypointFlags(): string[] {
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  const words = JSON.parse(line ?? '[]') as string[];
  return words.filter((word) => word.startsWith('--'));
}

describe('the V8 flags aegis runs with (infra/node-flags.mjs)', () => {
  it('are the container ENTRYPOINT’s', () => {
    expect(entrypointFlags()).toEqual(NODE_FLAGS);
  });

  it('are in the CLI bundle’s shebang, which runs the bundle as a command', async () => {
    const [shebang] = readFileSync(CLI, 'utf8').split('\n', 1);
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    // Started as a command, as npx does: env execs node with the flags, in the same process.
    const dir = tempDir();
    const child = spawn(CLI, ['serve', '--port', '0'], { cwd: dir, stdio: 'ignore' });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const commandLine = () =>
      readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    await expect
      .poll(commandLine, { timeout: 10_000 })
      .toEqual(['node', ...NODE_FLAGS, CLI, 'serve', '--port', '0']);
  });
});
