import type { Writable } from 'node:stream';
import type { Environment } from '#shared/env.ts';

/** What a command reads and writes, passed in so that tests can run the CLI in-process. */
export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  env: Environment;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Exit codes (SPEC §7): 0 on success, 1 on any failure. */
export const EXIT = { ok: 0, failure: 1 } as const;
