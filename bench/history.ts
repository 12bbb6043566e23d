import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '#shared/config/schema.ts';
import { stepStatement } from '#shared/history/history-store.ts';
import { openStores } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import {
  describePlan,
  hostTarget,
  type LoadTarget,
  loadPlan,
  reqPerS,
  type Summary,
  startBaseline,
  summarize,
  takeTurns,
} from './load-targets.ts';
import type { Row } from './report.ts';
import type { Seeds } from './seeds.ts';
import { http, round, SERVER_CPU, startAegis } from './support.ts';

const SMALL = 1_000;
const PATH = '/api/history?limit=10';
// 3 servers × (1 s warm-up + rounds × seconds).
const PLAN = loadPlan({ rounds: 2, seconds: 2 });
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

/** `aegis serve` (default INFO log, on CPU 0) over the history file at `dbPath`. */
async function historyHost(dir: string, name: string, dbPath: string) {
  const config = join(dir, `${name}.aegis.yaml`);
  writeFileSync(config, JSON.stringify({ history_db_path: dbPath }));
  const host = await startAegis({ config, cpu: SERVER_CPU, env: { LOG_LEVEL: undefined } });
  const answer = await http(`${host.url}${PATH}`);
  const first = JSON.parse(answer.body) as { steps: unknown[] }[];
  if (first.length !== 10 || first.some((r) => r.steps.length !== 5))
    throw new Error(`GET ${PATH} did not answer 10 runs of 5 steps`);
  return { target: hostTarget(name, host, PATH), bytes: Buffer.from(answer.body, 'utf8') };
}

/**
 * `GET /api/history?limit=10` under load on two hosts, one over 1,000 runs and one over 100,000,
 * and on a bare node:http server answering the big one's bytes (what the load itself costs),
 * taking turns round by round so that all three see the same machine.
 */
export async function benchHistory(dir: string, seeds: Seeds): Promise<Row[]> {
  const large = await seeds.history();
  const smallDb = join(dir, 'history-small.db');
  const smallSeedMs = await seedHistory(smallDb, SMALL);
  const targets: LoadTarget[] = [];
  let runs: Awaited<ReturnType<typeof takeTurns>>;
  try {
    targets.push((await historyHost(dir, 'small', smallDb)).target);
    const big = await historyHost(dir, 'large', large.dbPath);
    targets.push(big.target);
    const body = { bytes: big.bytes, file: join(dir, 'history.body') };
    targets.push(await startBaseline('node', { name: 'bare', path: PATH, body }));
    runs = await takeTurns(targets, PLAN);
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  const how = `${describePlan(PLAN)}; the bare node:http server answers the ${large.runs.toLocaleString('en')}-run host's bytes; seeded through the run queue's own API (5 steps each; ${round((large.ms * 1000) / large.runs, 0)} µs per run, ${(large.runs / 10_000).toFixed(0)} processes, alongside the insight seeding)`;
  return rows(
    { stored: SMALL, seedMs: smallSeedMs, ...summarize(runs.get('small')) },
    { stored: large.runs, seedMs: large.ms, ...summarize(runs.get('large')) },
    summarize(runs.get('bare')),
    how,
  );
}

interface Side extends Summary {
  /** Runs in its history. */
  stored: number;
  seedMs: number;
}

const spread = (s: Summary) => s.p99 / s.p50;

function rows(small: Side, large: Side, bare: Summary, how: string): Row[] {
  const stored = (side: Side) => `${side.stored.toLocaleString('en')} runs stored`;
  const latency = (s: Summary) =>
    `p50 ${round(s.p50, 2)} ms, p99 ${round(s.p99, 2)} ms = ${spread(s).toFixed(2)} × p50`;
  const errors = (s: Summary) =>
    s.failed > 0 ? `, ${s.failed} failed (errors, timeouts, non-2xx)` : '';
  const throughput = (side: Side, i: number): Row => ({
    section: 'history',
    figure: `\`GET ${PATH}\` throughput, ${stored(side)}`,
    measured: `${reqPerS(side.rps)}, ${side.cpuUs} µs CPU/req${errors(side)}`,
    value: Math.round(side.rps),
    target: { min: 3000 },
    targetText: '≥ 3,000 req/s',
    ...(i === 0 ? { note: how } : {}),
    detail: side,
  });
  const tail = (side: Side): Row => ({
    section: 'history',
    figure: `\`GET ${PATH}\` p99 ÷ p50, ${stored(side)}`,
    measured: latency(side),
    value: round(spread(side), 2),
    target: { max: 3 },
    targetText: '≤ 3',
  });
  const ratio = large.p50 / small.p50;
  return [
    throughput(small, 0),
    throughput(large, 1),
    tail(small),
    tail(large),
    {
      section: 'history',
      figure: `\`GET ${PATH}\` p50, ${stored(large)} ÷ ${stored(small)}`,
      measured: `${round(large.p50, 2)} ms ÷ ${round(small.p50, 2)} ms = ${ratio.toFixed(2)}`,
      value: round(ratio, 3),
      target: { max: 1.3 },
      targetText: '≤ 1.3',
    },
    {
      section: 'history',
      figure: 'bare `node:http`, the same answer and headers (reference)',
      measured: `${reqPerS(bare.rps)}, ${latency(bare)}`,
      note: 'what the load itself gives: its p99 ÷ p50 is the floor of the ratios above',
      detail: bare,
    },
  ];
}
