// The load generator: wrk when it is on PATH (a C client that needs far less CPU per request than
// the server it loads, so one thread on CPU 1 keeps CPU 0's server saturated), autocannon in a
// child process otherwise. BENCH_LOAD_TOOL=autocannon forces the fallback.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LOAD_CPU, runTsChild, spawnTracked } from './support.ts';

export type LoadTool = 'wrk' | 'autocannon';

export interface LoadInput {
  url: string;
  connections: number;
  seconds: number;
}

export interface LoadOutput {
  tool: LoadTool;
  requestsPerSecond: number;
  totalRequests: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number; max: number; mean: number };
  /** Connect, read and write errors. */
  errors: number;
  /** Answers other than 2xx (wrk counts 3xx with them). */
  non2xx: number;
  timeouts: number;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

const WRK = process.env.BENCH_LOAD_TOOL === 'autocannon' ? undefined : onPath('wrk');
/** The tool every load of this bench uses. */
export const LOAD_TOOL: LoadTool = WRK ? 'wrk' : 'autocannon';

/** `seconds` of load at `connections` connections on `url`, from CPU 1 (when it can pin). */
export function runLoad(input: LoadInput): Promise<LoadOutput> {
  return WRK
    ? runWrk(WRK, input)
    : runTsChild<LoadOutput>('autocannon-load.ts', input, { cpu: LOAD_CPU });
}

async function runWrk(wrk: string, { url, connections, seconds }: LoadInput): Promise<LoadOutput> {
  // wrk takes whole seconds only.
  const duration = Math.max(1, Math.round(seconds));
  const child = spawnTracked(wrk, {
    args: ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', url],
    cpu: LOAD_CPU,
    stdout: 'pipe',
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  // A hung wrk must not hang the bench.
  const timer = setTimeout(() => child.kill('SIGKILL'), (duration + 30) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${child.stderrTail}${out}`);
  return parseWrk(out);
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `812.00us`, `1.17ms`, `2.01s` in ms. */
function ms(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`wrk: cannot read the duration ${JSON.stringify(text)}`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

function field(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`wrk: no ${pattern.source} in its output:\n${text}`);
  return match[1];
}

/** wrk's `--latency` report: the distribution, totals, non-2xx answers and socket errors. */
export function parseWrk(text: string): LoadOutput {
  const percentile = (p: number) => ms(field(text, new RegExp(`^[ \\t]+${p}%[ \\t]+(\\S+)`, 'm')));
  const latency = /^[ \t]+Latency[ \t]+(\S+)[ \t]+\S+[ \t]+(\S+)/m.exec(text);
  // "Socket errors: connect 0, read 2, write 0, timeout 5" appears only when there were some.
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const [connect, read, write, timeout] = (socket?.slice(1) ?? ['0', '0', '0', '0']).map(Number);
  return {
    tool: 'wrk',
    requestsPerSecond: Number(field(text, /^Requests\/sec:\s+([\d.]+)/m)),
    totalRequests: Number(field(text, /^[ \t]+(\d+) requests in /m)),
    latencyMs: {
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
      max: latency?.[2] ? ms(latency[2]) : Number.NaN,
      mean: latency?.[1] ? ms(latency[1]) : Number.NaN,
    },
    errors: (connect ?? 0) + (read ?? 0) + (write ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    timeouts: timeout ?? 0,
  };
}
