import type { Row } from './report.ts';
import {
  http,
  median,
  percentile,
  QUICK,
  round,
  sleep,
  startAegis,
  stopProcess,
} from './support.ts';
import { WORKFLOW } from './workflow.ts';

const LATENCY_RUNS = QUICK ? 100 : 300;
const DRAIN_RUNS = 500;

interface RunRecord {
  status: string;
}

/**
 * The run queue (SPEC §11) against instant stubs, on `aegis serve` with the default 4 workers:
 * one async start after another, each followed to its end with `?wait`, (the latency from the
 * 202 to the completed record); then 500 runs queued while the workers are held back
 * (AEGIS_RUN_WORKERS=0 on the host that queues them) and drained by a second host with 4.
 */
export async function benchQueue(config: string): Promise<Row[]> {
  const rows: Row[] = [];
  const host = await startAegis({ config, env: { LOG_LEVEL: 'WARN' } });
  const latencies: number[] = [];
  try {
    await sleep(500);
    for (let i = 0; i < LATENCY_RUNS + 50; i++) {
      const started = performance.now();
      const accepted = await http(`${host.url}/api/workflows/${WORKFLOW}/run`, {
        method: 'POST',
        headers: { prefer: 'respond-async' },
        body: '{}',
      });
      if (accepted.status !== 202) throw new Error(`async start answered ${accepted.status}`);
      const { url } = JSON.parse(accepted.body) as { url: string };
      const ended = await http(`${host.url}${url}?wait=10`);
      const record = JSON.parse(ended.body) as RunRecord;
      if (record.status !== 'completed') throw new Error(`a run ended ${record.status}`);
      if (i >= 50) latencies.push(performance.now() - started);
    }
  } finally {
    await stopProcess(host.child);
  }
  const p50 = round(median(latencies));
  rows.push({
    section: 'queue',
    figure: 'async start → completed record, p50',
    measured: `${p50} ms (p99 ${round(percentile(latencies, 99))} ms)`,
    value: p50,
    target: { max: 15 },
    targetText: '≤ 15 ms',
    note: `${LATENCY_RUNS} runs, one at a time, each followed with GET /api/runs/{id}?wait=10, after 50 warm-up`,
  });

  // 500 runs queued by an API-only host, then drained by one host with the default 4 workers.
  const queuer = await startAegis({ config, env: { LOG_LEVEL: 'WARN', AEGIS_RUN_WORKERS: '0' } });
  let wallMs = Number.NaN;
  let drainMs = Number.NaN;
  try {
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < DRAIN_RUNS / 10; i++) {
          const accepted = await http(`${queuer.url}/api/workflows/${WORKFLOW}/run?async=true`, {
            method: 'POST',
            body: '{}',
          });
          if (accepted.status !== 202) throw new Error(`async start answered ${accepted.status}`);
        }
      }),
    );
    const started = performance.now();
    const worker = await startAegis({ config, env: { LOG_LEVEL: 'WARN' } });
    try {
      for (;;) {
        const queued = JSON.parse(
          (await http(`${queuer.url}/api/history?status=queued&limit=1`)).body,
        ) as unknown[];
        const running = JSON.parse(
          (await http(`${queuer.url}/api/history?status=running&limit=1`)).body,
        ) as unknown[];
        if (queued.length === 0 && running.length === 0) break;
        await sleep(20);
      }
      wallMs = performance.now() - started;
    } finally {
      await stopProcess(worker.child);
    }
    drainMs = drainSpan(
      JSON.parse((await http(`${queuer.url}/api/history?limit=${DRAIN_RUNS}`)).body) as Drained[],
    );
  } finally {
    await stopProcess(queuer.child);
  }
  const rate = round(DRAIN_RUNS / (drainMs / 1000), 1);
  rows.push({
    section: 'queue',
    figure: `${DRAIN_RUNS} queued runs drained by one host (4 workers)`,
    measured: `${rate} runs/s (${round(drainMs / 1000, 2)} s; ${round(wallMs / 1000, 2)} s with its start-up)`,
    value: rate,
    target: { min: 150 },
    targetText: '≥ 150 runs/s',
    note: "from the first run's started_at to the last one's completed_at, as the history records them",
    detail: { drainMs, wallMs },
  });
  return rows;
}

interface Drained {
  status: string;
  started_at: string | null;
  completed_at: string | null;
}

/** ms from the first start to the last completion of the drained runs; every one must have completed. */
function drainSpan(runs: readonly Drained[]): number {
  if (runs.length !== DRAIN_RUNS || runs.some((r) => r.status !== 'completed'))
    throw new Error(`the ${DRAIN_RUNS} queued runs did not all complete`);
  const starts = runs.map((r) => Date.parse(r.started_at ?? ''));
  const ends = runs.map((r) => Date.parse(r.completed_at ?? ''));
  return Math.max(...ends) - Math.min(...starts);
}
