import { join } from 'node:path';
import {
  describePlan,
  hostTarget,
  loadPlan,
  reqPerS,
  type Summary,
  startBaseline,
  summarize,
  takeTurns,
} from './load-targets.ts';
import type { Row } from './report.ts';
import { http, QUICK, round, SERVER_CPU, startAegis, stopProcess } from './support.ts';
import { WORKFLOW } from './workflow.ts';

/** Reads that the configuration alone answers. */
const PATHS = [
  '/api/workflows',
  `/api/workflows/${WORKFLOW}`,
  '/api/portfolio',
  '/api/webhooks',
  '/openapi.json',
];
// 5 paths × 3 servers × (1 s warm-up + 2 rounds × 1 s): about 50 s, of the bench's 5 minutes.
const PLAN = loadPlan({ rounds: QUICK ? 1 : 2, seconds: 1 });

interface Endpoint {
  path: string;
  bytes: number;
  aegis: Summary;
  express: Summary;
  node: Summary;
}

/** The exact bytes Aegis answers at `url`, checked to be the same twice (nothing but config in them). */
async function answerOf(url: string): Promise<Buffer> {
  const [first, second] = [await http(url), await http(url)];
  if (first.status !== 200) throw new Error(`${url} answered ${first.status}: ${first.body}`);
  if (first.body !== second.body) throw new Error(`${url} answered different bytes twice`);
  return Buffer.from(first.body, 'utf8');
}

/**
 * Config-only reads on `aegis serve` (default INFO log to /dev/null, as users run it) under load,
 * against a one-route Express 5 app and a bare node:http server that answer the same bytes with
 * the same headers, all three on CPU 0, taking turns round by round, one path after another.
 */
export async function benchApi(config: string, dir: string): Promise<Row[]> {
  const host = await startAegis({ config, cpu: SERVER_CPU, env: { LOG_LEVEL: undefined } });
  const endpoints: Endpoint[] = [];
  try {
    for (const path of PATHS) {
      const body = { bytes: await answerOf(`${host.url}${path}`), file: join(dir, 'api.body') };
      const baselines = [
        await startBaseline('express', { name: 'express', path, body }),
        await startBaseline('node', { name: 'node', path, body }),
      ];
      try {
        const runs = await takeTurns([hostTarget('aegis', host, path), ...baselines], PLAN);
        endpoints.push({
          path,
          bytes: body.bytes.length,
          aegis: summarize(runs.get('aegis')),
          express: summarize(runs.get('express')),
          node: summarize(runs.get('node')),
        });
      } finally {
        await Promise.all(baselines.map((b) => b.stop()));
      }
    }
  } finally {
    await stopProcess(host.child);
  }
  return rows(endpoints);
}

function rows(endpoints: readonly Endpoint[]): Row[] {
  const how = `${describePlan(PLAN)}; each path against a one-route Express 5 app and a bare node:http server answering Aegis's bytes with its headers`;
  const perPath = endpoints.map((e, i): Row => {
    const ratio = e.aegis.rps / e.express.rps;
    const failures =
      e.aegis.failed > 0 ? `, ${e.aegis.failed} failed (errors, timeouts, non-2xx)` : '';
    return {
      section: 'api',
      figure: `\`GET ${e.path}\` throughput (${e.bytes.toLocaleString('en')} bytes)`,
      measured: `${reqPerS(e.aegis.rps)} = ${ratio.toFixed(2)} × bare Express, ${(e.aegis.rps / e.node.rps).toFixed(2)} × bare node:http; ${e.aegis.cpuUs} µs CPU/req${failures}`,
      value: round(ratio, 3),
      target: { min: 0.8 },
      targetText: '≥ 0.80 × bare Express',
      ...(i === 0 ? { note: how } : {}),
      detail: e,
    };
  });
  const baseline = (kind: 'express' | 'node', figure: string): Row => ({
    section: 'api',
    figure,
    measured: endpoints
      .map((e) => `${e.path.replace(/^\/(api\/)?/, '')} ${reqPerS(e[kind].rps)}`)
      .join(', '),
    detail: endpoints.map((e) => ({ path: e.path, ...e[kind] })),
  });
  return [
    ...perPath,
    baseline('express', 'bare Express 5 (one route), same bytes and headers'),
    baseline('node', 'bare `node:http`, same bytes and headers'),
  ];
}
