import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_FLAGS, RUNTIME_ENV } from '../infra/node-flags.mjs';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
/** The host under test: the fresh build, or another bundle to compare (BENCH_AEGIS_CLI=path). */
export const CLI = process.env.BENCH_AEGIS_CLI
  ? resolve(process.env.BENCH_AEGIS_CLI)
  : join(ROOT, 'dist', 'aegis.mjs');
/** `--import` this to run the bench's TypeScript in a child process. */
export const REGISTER = pathToFileURL(join(BENCH_DIR, '..', 'infra', 'register-ts.mjs')).href;

/** Quick mode (`BENCH_QUICK=1`): shorter loads and fewer runs, to try the harness; figures are rougher. */
export const QUICK = process.env.BENCH_QUICK === '1';

// ---------------------------------------------------------------- statistics

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---------------------------------------------------------------- processes

/** `taskset` when present: the server under test on CPU 0, the load generator on CPU 1. */
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
export const CAN_PIN = TASKSET !== undefined && cpus().length >= 2;
/** Under load, the server under test runs on CPU 0 and the load generator on CPU 1. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

const children = new Set<ChildProcess>();

/** Every child the bench started is killed when it exits, however it exits. */
function killAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
process.once('exit', killAll);
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => process.exit(code));
}

export interface SpawnOptions {
  args: readonly string[];
  env?: Record<string, string | undefined>;
  /** Pin to this CPU with taskset (when available). */
  cpu?: number;
  /** Where the child's stdout goes: discarded by default (the host's request log lands in /dev/null). */
  stdout?: 'ignore' | 'pipe';
  ipc?: boolean;
  cwd?: string;
}

/** Starts `node <args>`, pinned when asked; returns the process, tracked for cleanup. */
export function spawnNode(options: SpawnOptions) {
  return spawnTracked(process.execPath, options);
}

/** Starts `command <args>` (pinned to `cpu` with taskset when asked), tracked for cleanup. */
export function spawnTracked(
  command: string,
  { args, env, cpu, stdout = 'ignore', ipc, cwd }: SpawnOptions,
) {
  const [file, argv] =
    cpu !== undefined && CAN_PIN && TASKSET
      ? [TASKSET, ['-c', String(cpu), command, ...args]]
      : [command, [...args]];
  const child = spawn(file, argv, {
    cwd: cwd ?? ROOT,
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', stdout, 'pipe', 'ipc'] : ['ignore', stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  Object.defineProperty(child, 'stderrTail', { get: () => stderr });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child as ChildProcess & { readonly stderrTail: string };
}

/** Runs a bench TypeScript module in a fresh process; resolves to the value it `reply`s with. */
export function runTsChild<T>(
  module: string,
  input: unknown,
  options: Omit<SpawnOptions, 'args' | 'ipc'> = {},
): Promise<T> {
  const child = spawnNode({
    ...options,
    args: ['--import', REGISTER, join(BENCH_DIR, module), JSON.stringify(input)],
    ipc: true,
  });
  return new Promise((resolve, reject) => {
    let result: { value: T } | undefined;
    child.once('message', (value) => {
      result = { value: value as T };
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 && result) resolve(result.value);
      else reject(new Error(`${module} exited with ${code}: ${child.stderrTail}`));
    });
  });
}

export async function stopProcess(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** The `kB` fields of a process's /proc status (Linux), in bytes; NaN for each elsewhere. */
function statusBytes<const Name extends string>(pid: number, names: readonly Name[]) {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {}
  const bytes = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  };
  return Object.fromEntries(names.map((name) => [name, bytes(name)])) as Record<Name, number>;
}

/** Resident set size of a process, from /proc (Linux); NaN elsewhere. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, ['VmRSS']).VmRSS;
}

/** VmRSS's two parts: the process's own memory (heap, malloc) and the files it maps (the node binary, native modules), in bytes. */
export function rssParts(pid: number): { anon: number; file: number } {
  const { RssAnon, RssFile } = statusBytes(pid, ['RssAnon', 'RssFile']);
  return { anon: RssAnon, file: RssFile };
}

const CLOCK_TICKS = Number(commandOutput('getconf', ['CLK_TCK'])) || 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux); NaN elsewhere. */
export function cpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- HTTP

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export interface HttpAnswer {
  status: number;
  body: string;
  /** From sending the request to the end of the answer. */
  ms: number;
}

/** One request over a kept-alive connection (sequential use), timed. */
export function http(
  url: string,
  {
    method = 'GET',
    body,
    keepAlive = true,
    headers = {},
    via = agent,
  }: {
    method?: string;
    body?: string;
    keepAlive?: boolean;
    headers?: Record<string, string>;
    /** Another agent than the one-socket default, for requests in flight at once. */
    via?: Agent;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method,
        agent: keepAlive ? via : false,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls `url` until it answers 200; resolves to the ms since `since` (a `performance.now()`). */
export async function waitFor200(
  url: string,
  {
    since = performance.now(),
    timeoutMs = 20_000,
    everyMs = 5,
    child,
  }: {
    since?: number;
    timeoutMs?: number;
    everyMs?: number;
    child?: ChildProcess & { readonly stderrTail?: string };
  } = {},
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null)
      throw new Error(`the server exited with ${child.exitCode}: ${child.stderrTail ?? ''}`);
    try {
      const answer = await http(url, { keepAlive: false });
      if (answer.status === 200) return performance.now() - since;
    } catch {}
    if (performance.now() > deadline)
      throw new Error(`${url} did not answer 200 in ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export interface StartedHost {
  url: string;
  child: ChildProcess & { readonly stderrTail: string };
  /** From spawning the process to the first 200 on /health. */
  readyMs: number;
}

/** How node is started for a host: its flags, and environment variables set for it. */
export interface HostLaunch {
  nodeArgs: string[];
  env: Record<string, string>;
}

/**
 * How every host the bench starts is launched: as `npx aegis serve` and the container run it
 * (infra/node-flags.mjs), or as BENCH_HOST_NODE_ARGS says instead (space-separated node flags,
 * NAME=value words for the environment; empty for neither), plus BENCH_CPU_PROF=<dir> for a
 * `--cpu-prof` profile of each.
 */
export function hostLaunch(): HostLaunch {
  const chosen = process.env.BENCH_HOST_NODE_ARGS;
  const words = chosen?.split(/\s+/).filter(Boolean);
  const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/;
  const nodeArgs = words ? words.filter((word) => !assignment.test(word)) : [...NODE_FLAGS];
  const env = words
    ? Object.fromEntries(
        words.flatMap((word) => {
          const match = assignment.exec(word);
          return match ? [[match[1], match[2]]] : [];
        }),
      )
    : { ...RUNTIME_ENV };
  if (process.env.BENCH_CPU_PROF)
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF);
  return { nodeArgs, env };
}

/** Starts `node dist/aegis.mjs serve` on 127.0.0.1 and waits for a 200 on /health. */
export async function startAegis({
  config,
  env = {},
  cpu,
  launch = hostLaunch(),
  cwd,
}: {
  config: string;
  env?: Record<string, string | undefined>;
  cpu?: number;
  /** Node's flags and environment (default: `hostLaunch()`); `env` is added to its environment. */
  launch?: HostLaunch;
  /** Its working directory (default: the repository), where signal-triggered heap snapshots land. */
  cwd?: string;
}): Promise<StartedHost> {
  const port = await freePort();
  const since = performance.now();
  const child = spawnNode({
    args: [
      ...launch.nodeArgs,
      CLI,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--config',
      config,
    ],
    env: { ...launch.env, ...env },
    ...(cpu === undefined ? {} : { cpu }),
    ...(cwd === undefined ? {} : { cwd }),
  });
  const url = `http://127.0.0.1:${port}`;
  const readyMs = await waitFor200(`${url}/health`, { since, child });
  return { url, child, readyMs };
}

// ---------------------------------------------------------------- the machine

export function commandOutput(command: string, args: readonly string[]): string | null {
  try {
    return execFileSync(command, args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
  } catch {
    return null;
  }
}
