import {
  describePlan,
  hostTarget,
  type LoadTarget,
  loadPlan,
  reqPerS,
  startBaseline,
  summarize,
  takeTurns,
} from './load-targets.ts';
import type { Row } from './report.ts';
import { QUICK, round, SERVER_CPU, startAegis } from './support.ts';

const PLAN = loadPlan({ rounds: QUICK ? 1 : 2, seconds: 2 });

async function startHost(name: string, config: string, logLevel?: string): Promise<LoadTarget> {
  // Unset LOG_LEVEL is what users run: INFO, one JSON line per request on stdout (here /dev/null).
  const host = await startAegis({ config, cpu: SERVER_CPU, env: { LOG_LEVEL: logLevel } });
  return hostTarget(name, host, '/health');
}

/**
 * `/health` under load (50 connections): Aegis with LOG_LEVEL=WARN, Aegis with the default INFO
 * request log, and a bare node:http server answering the same JSON, measured in turn in each
 * round so that they share the machine's conditions; the figures are medians over the rounds.
 */
export async function benchThroughput(config: string): Promise<Row[]> {
  const targets = [
    await startBaseline('node', { name: 'bare', path: '/health' }),
    await startHost('warn', config, 'WARN'),
    await startHost('info', config, undefined),
  ];
  let runs: Awaited<ReturnType<typeof takeTurns>>;
  try {
    runs = await takeTurns(targets, PLAN);
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  const bare = summarize(runs.get('bare'));
  const how = describePlan(PLAN);
  const rows: Row[] = [
    {
      section: 'http',
      figure: 'bare `node:http`, same JSON and headers',
      measured: `${reqPerS(bare.rps)}, p99 ${bare.p99} ms, ${bare.cpuUs} µs CPU/req`,
      note: how,
      detail: bare,
    },
  ];
  for (const [name, label] of [
    ['warn', 'LOG_LEVEL=WARN'],
    ['info', 'default INFO log'],
  ] as const) {
    const s = summarize(runs.get(name));
    const ratio = s.rps / bare.rps;
    const failures = s.failed > 0 ? `, ${s.failed} failed (errors, timeouts, non-2xx)` : '';
    rows.push(
      {
        section: 'http',
        figure: `\`/health\` throughput, ${label}`,
        measured: `${reqPerS(s.rps)} = ${ratio.toFixed(2)} × bare, ${s.cpuUs} µs CPU/req${failures}`,
        value: round(ratio, 3),
        target: { min: 0.5 },
        targetText: '≥ 0.50 × bare',
        note: how,
        detail: s,
      },
      {
        section: 'http',
        figure: `\`/health\` p99, ${label}`,
        measured: `${round(s.p99, 2)} ms (p50 ${round(s.p50, 2)} ms)`,
        value: s.p99,
        target: { max: 10 },
        targetText: '≤ 10 ms',
      },
    );
  }
  return rows;
}
