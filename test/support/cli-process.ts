import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '#local-host/cli.ts';

export const AEGIS_BIN = join(import.meta.dirname, '..', '..', 'dist', 'aegis.mjs');

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Killed (SIGKILL) if still running after this long (default 15 s). */
  timeoutMs?: number | undefined;
  /**
   * Its own process group, signalled as a whole (`process.kill(-pid)`, as a
   * terminal's Ctrl-C does): for launchers such as npx that do not pass
   * signals on to the command they start.
   */
  processGroup?: boolean | undefined;
}

/** A running `aegis` process, with what it has printed so far. */
export interface RunningAegis {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process has ended and its output is read. */
  exited: Promise<number | null>;
}

/** Starts the built `aegis` as a child process, as a user's shell would, with a clean environment. */
export function spawnAegis(
  args: readonly string[],
  { cwd, env, timeoutMs }: SpawnOptions = {},
): RunningAegis {
  return spawnCommand(process.execPath, [AEGIS_BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeoutMs,
  });
}

/** Starts any command with exactly the given environment, collecting what it prints. */
export function spawnCommand(
  command: string,
  args: readonly string[],
  { cwd, env, timeoutMs = 15_000, processGroup = false }: SpawnOptions = {},
): RunningAegis {
  const child = spawn(command, args, { cwd, env, detached: processGroup });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => {
    if (processGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  }, timeoutMs);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the built `aegis` to its end. */
export function runAegis(
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<ProcessResult> {
  return toEnd(spawnAegis(args, options));
}

/** Runs any command to its end, with exactly the given environment. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<ProcessResult> {
  return toEnd(spawnCommand(command, args, options));
}

async function toEnd(running: RunningAegis): Promise<ProcessResult> {
  running.child.stdin.end();
  const code = await running.exited;
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

/** Runs `aegis …` in-process (so it counts toward coverage) and collects what it prints. */
export async function runAegisInProcess(
  args: readonly string[],
  { cwd, env = {} }: { cwd: string; env?: Record<string, string | undefined> },
): Promise<ProcessResult & { code: number }> {
  const collect = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    return { stream, text: () => text };
  };
  const stdout = collect();
  const stderr = collect();
  const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream, env, cwd });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
