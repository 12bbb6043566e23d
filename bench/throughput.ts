import type { LoadInput, LoadOutput } from './load-generator.ts';
import type { Row } from './report.ts';
import {
  BENCH_DIR,
  CAN_PIN,
  cpuMs,
  freePort,
  median,
  QUICK,
  REGISTER,
  round,
  runTsChild,
  type StartedHost,
  spawnNode,
  startAegis,
  stopProcess,
  waitFor200,
} from './support.ts';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? (QUICK ? 3 : 6));
const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? (QUICK ? 1 : 3));
const WARMUP_SECONDS = 1;
/** The server under test runs on CPU 0, the load generator on CPU 1. */
const SERVER_CPU = 0;
const LOAD_CPU = 1;

function load(url: string, seconds: number): Promise<LoadOutput> {
  const input: LoadInput = { url, connections: CONNECTIONS, seconds };
  return runTsChild<LoadOutput>('load-generator.ts', input, { cpu: LOAD_CPU });
}

interface Target {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** One load run, with the CPU time the server spent on it: robust where other work shares the machine. */
interface Measured extends LoadOutput {
  serverCpuUsPerRequest: number;
}

async function measure(target: Target, seconds: number): Promise<Measured> {
  const cpuBefore = cpuMs(target.pid);
  const out = await load(target.url, seconds);
  const cpu = cpuMs(target.pid) - cpuBefore;
  return { ...out, serverCpuUsPerRequest: round((cpu * 1000) / out.totalRequests, 1) };
}

async function startBare(): Promise<Target> {
  const port = await freePort();
  const child = spawnNode({
    args: ['--import', REGISTER, `${BENCH_DIR}/bare-server.ts`, JSON.stringify({ port })],
    cpu: SERVER_CPU,
  });
  const url = `http://127.0.0.1:${port}/health`;
  await waitFor200(url, { child });
  return { name: 'bare', url, pid: child.pid ?? -1, stop: () => stopProcess(child) };
}

async function startHost(name: string, config: string, logLevel?: string): Promise<Target> {
  const host: StartedHost = await startAegis({
    config,
    cpu: SERVER_CPU,
    // Unset LOG_LEVEL is what users run: INFO, one JSON line per request on stdout (here /dev/null).
    env: { LOG_LEVEL: logLevel },
  });
  return {
    name,
    url: `${host.url}/health`,
    pid: host.child.pid ?? -1,
    stop: () => stopProcess(host.child),
  };
}

/**
 * `/health` under autocannon (50 connections): Aegis with LOG_LEVEL=WARN, Aegis with the default
 * INFO request log, and a bare node:http server answering the same JSON, measured in turn in each
 * round so that they share the machine's conditions; the figures are medians over the rounds.
 */
export async function benchThroughput(config: string): Promise<Row[]> {
  const targets = [
    await startBare(),
    await startHost('warn', config, 'WARN'),
    await startHost('info', config, undefined),
  ];
  const runs = new Map<string, Measured[]>(targets.map((t) => [t.name, []]));
  try {
    for (const target of targets) await load(target.url, WARMUP_SECONDS);
    for (let r = 0; r < ROUNDS; r++) {
      for (const target of targets) runs.get(target.name)?.push(await measure(target, SECONDS));
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  const summary = (name: string) => {
    const list = runs.get(name) ?? [];
    const failed = list.reduce((n, r) => n + r.errors + r.non2xx + r.timeouts, 0);
    return {
      rps: median(list.map((r) => r.requestsPerSecond)),
      p50: median(list.map((r) => r.latencyMs.p50)),
      p99: median(list.map((r) => r.latencyMs.p99)),
      cpuUs: median(list.map((r) => r.serverCpuUsPerRequest)),
      failed,
      runs: list,
    };
  };
  const bare = summary('bare');
  const how = `autocannon ${CONNECTIONS} connections × ${SECONDS} s, median of ${ROUNDS}${CAN_PIN ? '; server on CPU 0, generator on CPU 1' : ''}`;
  const rows: Row[] = [
    {
      section: 'http',
      figure: 'bare `node:http`, same JSON and headers',
      measured: `${Math.round(bare.rps).toLocaleString('en')} req/s, p99 ${bare.p99} ms, ${bare.cpuUs} µs CPU/req`,
      note: how,
      detail: bare,
    },
  ];
  for (const [name, label] of [
    ['warn', 'LOG_LEVEL=WARN'],
    ['info', 'default INFO log'],
  ] as const) {
    const s = summary(name);
    const ratio = s.rps / bare.rps;
    const failures = s.failed > 0 ? `, ${s.failed} errors` : '';
    rows.push(
      {
        section: 'http',
        figure: `\`/health\` throughput, ${label}`,
        measured: `${Math.round(s.rps).toLocaleString('en')} req/s = ${ratio.toFixed(2)} × bare, ${s.cpuUs} µs CPU/req${failures}`,
        value: round(ratio, 3),
        target: { min: 0.5 },
        targetText: '≥ 0.50 × bare',
        note: how,
        detail: s,
      },
      {
        section: 'http',
        figure: `\`/health\` p99, ${label}`,
        measured: `${s.p99} ms (p50 ${s.p50} ms)`,
        value: s.p99,
        target: { max: 10 },
        targetText: '≤ 10 ms',
      },
    );
  }
  return rows;
}
