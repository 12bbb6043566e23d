// What the load sections (http, api, history) share: servers to load, each pinned to CPU 0, and
// rounds of load that take turns between them so that they all see the machine's conditions.
import { writeFileSync } from 'node:fs';
import type { BareInput } from './bare-headers.ts';
import { LOAD_TOOL, type LoadOutput, runLoad } from './load-generator.ts';
import {
  BENCH_DIR,
  CAN_PIN,
  cpuMs,
  freePort,
  median,
  REGISTER,
  round,
  SERVER_CPU,
  type StartedHost,
  spawnNode,
  stopProcess,
  waitFor200,
} from './support.ts';

export const CONNECTIONS = 50;

export interface LoadTarget {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** One load run, with the CPU time the server spent on it: robust where other work shares the machine. */
export interface Measured extends LoadOutput {
  serverCpuUsPerRequest: number;
}

export interface LoadPlan {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
}

/** A section's rounds and seconds, unless BENCH_LOAD_ROUNDS / BENCH_LOAD_SECONDS say otherwise. */
export function loadPlan(defaults: { rounds: number; seconds: number }): LoadPlan {
  return {
    rounds: Number(process.env.BENCH_LOAD_ROUNDS ?? defaults.rounds),
    seconds: Number(process.env.BENCH_LOAD_SECONDS ?? defaults.seconds),
    warmupSeconds: 1,
  };
}

/** How a section loaded its servers, for its rows' notes. */
export function describePlan(plan: LoadPlan): string {
  const pinned = CAN_PIN ? `; servers on CPU ${SERVER_CPU}, ${LOAD_TOOL} on the other` : '';
  return `${LOAD_TOOL} ${CONNECTIONS} connections, ${plan.rounds} rounds × ${plan.seconds} s taking turns after ${plan.warmupSeconds} s warm-up, median${pinned}`;
}

export async function measure(target: LoadTarget, seconds: number): Promise<Measured> {
  const cpuBefore = cpuMs(target.pid);
  const out = await runLoad({ url: target.url, connections: CONNECTIONS, seconds });
  const cpu = cpuMs(target.pid) - cpuBefore;
  return { ...out, serverCpuUsPerRequest: round((cpu * 1000) / out.totalRequests, 1) };
}

/** Warms every target up, then loads each in turn, round by round. */
export async function takeTurns(
  targets: readonly LoadTarget[],
  plan: LoadPlan,
): Promise<Map<string, Measured[]>> {
  const runs = new Map<string, Measured[]>(targets.map((t) => [t.name, []]));
  for (const target of targets) await measure(target, plan.warmupSeconds);
  for (let r = 0; r < plan.rounds; r++)
    for (const target of targets) runs.get(target.name)?.push(await measure(target, plan.seconds));
  return runs;
}

export interface Summary {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  /** Errors, non-2xx answers and timeouts over every round. */
  failed: number;
  runs: Measured[];
}

export function summarize(runs: readonly Measured[] = []): Summary {
  return {
    rps: median(runs.map((r) => r.requestsPerSecond)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    cpuUs: median(runs.map((r) => r.serverCpuUsPerRequest)),
    failed: runs.reduce((n, r) => n + r.errors + r.non2xx + r.timeouts, 0),
    runs: [...runs],
  };
}

export const reqPerS = (rps: number) => `${Math.round(rps).toLocaleString('en')} req/s`;

/** `aegis serve` (started on CPU 0) as a target, at `path`. */
export function hostTarget(name: string, host: StartedHost, path: string): LoadTarget {
  return {
    name,
    url: `${host.url}${path}`,
    pid: host.child.pid ?? -1,
    stop: () => stopProcess(host.child),
  };
}

/**
 * A baseline on CPU 0: `bare-server.ts` (node:http) or `bare-express.ts` (Express 5), answering
 * `body` at `path` (the bare node:http server without a body answers what /health answers).
 */
export async function startBaseline(
  kind: 'node' | 'express',
  { name, path, body }: { name: string; path: string; body?: { bytes: Buffer; file: string } },
): Promise<LoadTarget> {
  if (body) writeFileSync(body.file, body.bytes);
  const port = await freePort();
  const input: BareInput = { port, path, ...(body ? { bodyFile: body.file } : {}) };
  const module = kind === 'node' ? 'bare-server.ts' : 'bare-express.ts';
  const child = spawnNode({
    args: ['--import', REGISTER, `${BENCH_DIR}/${module}`, JSON.stringify(input)],
    cpu: SERVER_CPU,
  });
  const url = `http://127.0.0.1:${port}${path}`;
  await waitFor200(url, { child });
  return { name, url, pid: child.pid ?? -1, stop: () => stopProcess(child) };
}
