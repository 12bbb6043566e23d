import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '#shared/config/schema.ts';
import { stepStatement } from '#shared/history/history-store.ts';
import { openStores } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import type { Row } from './report.ts';
import { http, median, percentile, QUICK, round, startAegis, stopProcess } from './support.ts';

const SMALL = 100;
const LARGE = Number(process.env.BENCH_HISTORY_RUNS ?? (QUICK ? 10_000 : 100_000));
const ROUNDS = 5;
const REQUESTS_PER_ROUND = QUICK ? 100 : 200;
const WARMUP_REQUESTS = 100;
const WORKFLOWS = ['full_pipeline', 'smoke', 'nightly'];
const STEP_TYPES = ['discover', 'test', 'submit_bugs', 'verify', 'report'] as const;

function stepResult(type: (typeof STEP_TYPES)[number]): StepResult {
  return {
    step_type: type,
    service: type === 'submit_bugs' ? 'bugalizer' : 'qaagent',
    success: true,
    skipped: false,
    data: { total: 3, passed: 3, failed: 0, failures: [] },
    error: null,
    duration_ms: 1.25,
    attempts: [{ attempt: 1, success: true, error: null, duration_ms: 1.2 }],
  };
}
const STEPS = STEP_TYPES.map((type, index) => ({ index, step: stepResult(type) }));

/**
 * Writes `runs` runs of 5 steps into a new history through the run queue's own API (enqueue,
 * claim, finish with the steps), as a run through the host would: no SQL of our own.
 */
export async function seedHistory(dbPath: string, runs: number): Promise<number> {
  const stores = await openStores({ ...defaultConfig(), history_db_path: dbPath }, {});
  const started = performance.now();
  try {
    let next = 0;
    const worker = async () => {
      while (next < runs) {
        const i = next++;
        const workflow_name = WORKFLOWS[i % WORKFLOWS.length] as string;
        const now = Date.UTC(2026, 0, 1) + i * 1000;
        const at = new Date(now).toISOString();
        // As a run through the host: queued, claimed, finished with its steps.
        const queued = await stores.queue.enqueue({
          workflow: workflow_name,
          settings: { on_interrupt: 'none' },
          trigger: 'api',
          now,
        });
        if (queued.kind !== 'queued') throw new Error('seeding: a run was not queued');
        const claim = await stores.queue.claim({
          owner: 'bench-seed',
          leaseMs: 60_000,
          workflows: [workflow_name],
          runId: queued.runId,
          now,
        });
        if (!claim) throw new Error('seeding: a queued run could not be claimed');
        await stores.queue.finish({
          runId: queued.runId,
          owner: 'bench-seed',
          status: 'completed',
          success: true,
          completedAt: at,
          durationMs: 6.25,
          reason: null,
          before: STEPS.map(({ index, step }) =>
            stepStatement(queued.runId, index, step, 'bench-seed'),
          ),
          now,
        });
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  } finally {
    stores.db.close();
  }
  return performance.now() - started;
}

interface Measured {
  runs: number;
  p50: number;
  p99: number;
  rounds: { p50: number; p99: number }[];
  seedMs: number;
}

/** A history file of `runs` runs, served by its own `aegis serve`. */
async function historyHost(dir: string, name: string, runs: number) {
  const dbPath = join(dir, `${name}.db`);
  const config = join(dir, `${name}.aegis.yaml`);
  writeFileSync(config, JSON.stringify({ history_db_path: dbPath }));
  const seedMs = await seedHistory(dbPath, runs);
  const host = await startAegis({ config, env: { LOG_LEVEL: undefined } });
  const url = `${host.url}/api/history?limit=10`;
  const first = JSON.parse((await http(url)).body) as { steps: unknown[] }[];
  if (first.length !== 10 || first.some((r) => r.steps.length !== 5))
    throw new Error('GET /api/history did not answer 10 runs of 5 steps');
  return { runs, url, host, seedMs, rounds: [] as { p50: number; p99: number }[] };
}

/**
 * Sequential `GET /api/history?limit=10` against two hosts, one over 100 runs and one over
 * 100,000, taking turns round by round so that both see the same machine; the figure is the
 * median of the rounds' p50s.
 */
export async function benchHistory(dir: string): Promise<Row[]> {
  const small = await historyHost(dir, 'history-100', SMALL);
  try {
    const large = await historyHost(dir, 'history-large', LARGE);
    try {
      for (const side of [small, large])
        for (let i = 0; i < WARMUP_REQUESTS; i++) await http(side.url);
      for (let r = 0; r < ROUNDS; r++) {
        for (const side of [small, large]) {
          const times: number[] = [];
          for (let i = 0; i < REQUESTS_PER_ROUND; i++) times.push((await http(side.url)).ms);
          side.rounds.push({ p50: percentile(times, 50), p99: percentile(times, 99) });
        }
      }
    } finally {
      await stopProcess(large.host.child);
    }
    return rows(summary(small), summary(large));
  } finally {
    await stopProcess(small.host.child);
  }
}

function summary(side: Awaited<ReturnType<typeof historyHost>>): Measured {
  return {
    runs: side.runs,
    p50: median(side.rounds.map((r) => r.p50)),
    p99: median(side.rounds.map((r) => r.p99)),
    rounds: side.rounds,
    seedMs: side.seedMs,
  };
}

function rows(small: Measured, large: Measured): Row[] {
  const ratio = large.p50 / small.p50;
  const how = `${ROUNDS} × ${REQUESTS_PER_ROUND} sequential requests per size, taking turns, after ${WARMUP_REQUESTS} warm-up; median of round p50s; seeded with startRun + completeRun (5 steps each, ${round((large.seedMs * 1000) / large.runs, 0)} µs per run)`;
  return [
    {
      section: 'history',
      figure: `\`GET /api/history?limit=10\`, ${SMALL} runs stored`,
      measured: `p50 ${round(small.p50, 3)} ms, p99 ${round(small.p99, 3)} ms`,
      note: how,
      detail: small,
    },
    {
      section: 'history',
      figure: `\`GET /api/history?limit=10\`, ${LARGE.toLocaleString('en')} runs stored`,
      measured: `p50 ${round(large.p50, 3)} ms = ${ratio.toFixed(2)} × at ${SMALL}, p99 ${round(large.p99, 3)} ms`,
      value: round(ratio, 3),
      target: { max: 1.3 },
      targetText: `p50 ≤ 1.3 × at ${SMALL}`,
      detail: large,
    },
  ];
}
