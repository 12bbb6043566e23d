import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '#shared/config/schema.ts';
import { stepStatement } from '#shared/history/history-store.ts';
import { insightStatements } from '#shared/insight/record.ts';
import { openStores } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import type { Row } from './report.ts';
import { http, median, percentile, QUICK, round, startAegis, stopProcess } from './support.ts';

const RUNS = Number(process.env.BENCH_INSIGHT_RUNS ?? (QUICK ? 10_000 : 100_000));
const ROUNDS = 5;
const REQUESTS_PER_ROUND = QUICK ? 40 : 100;
const WARMUP_REQUESTS = 50;
const WORKFLOW = 'nightly';
const DAY_MS = 24 * 60 * 60 * 1000;
const OWNER = 'bench-seed';
/** The 50 ms of SPEC §14. */
const TARGET_MS = 50;

/**
 * The n-th run's test step: 20 tests, `always` failing, `flip` failing every other run and
 * `once_in_ten` every tenth, so that flips, inferred passes and flaky flags all have work.
 */
function testStep(n: number): StepResult {
  const failing = [
    'always',
    ...(n % 2 === 0 ? ['flip'] : []),
    ...(n % 10 === 0 ? ['once_in_ten'] : []),
  ];
  const failures = failing.map((test) => ({ test, error: `${test} broke` }));
  return {
    step_type: 'test',
    service: 'qaagent',
    success: true,
    skipped: false,
    data: { total: 20, passed: 20 - failures.length, failed: failures.length, failures },
    error: null,
    duration_ms: 800,
    attempts: [{ attempt: 1, success: true, error: null, duration_ms: 800 }],
  };
}

/**
 * Writes `runs` runs of one workflow, evenly over the last 365 UTC days, through the run queue's own
 * API as a run through the host would be (enqueue, claim, finish with its step and the step's
 * test results): no SQL of our own. Durations vary from 1 to 6 s; one run in twenty fails.
 */
async function seed(dbPath: string, runs: number): Promise<number> {
  const stores = await openStores({ ...defaultConfig(), history_db_path: dbPath }, {});
  const started = performance.now();
  // From 00:00 UTC 364 days ago to now: the 365 UTC days of `days=365`, today included.
  const first = Math.floor(Date.now() / DAY_MS) * DAY_MS - 364 * DAY_MS;
  const span = Date.now() - first;
  try {
    let next = 0;
    const worker = async () => {
      while (next < runs) {
        const n = next++;
        const now = first + Math.floor((n * span) / runs);
        const queued = await stores.queue.enqueue({
          workflow: WORKFLOW,
          settings: { on_interrupt: 'none' },
          trigger: 'schedule',
          now,
        });
        if (queued.kind !== 'queued') throw new Error('seeding: a run was not queued');
        const claim = await stores.queue.claim({
          owner: OWNER,
          leaseMs: 60_000,
          workflows: [WORKFLOW],
          runId: queued.runId,
          now,
        });
        if (!claim) throw new Error('seeding: a queued run could not be claimed');
        const durationMs = 1000 + ((n * 7919) % 5000);
        const step = testStep(n);
        await stores.queue.finish({
          runId: queued.runId,
          owner: OWNER,
          status: 'completed',
          success: n % 20 !== 0,
          completedAt: new Date(now + durationMs).toISOString(),
          durationMs,
          reason: null,
          before: [
            stepStatement(queued.runId, 0, step, OWNER),
            ...insightStatements(queued.runId, 0, step, OWNER, now),
          ],
          now,
        });
      }
    };
    // As bench/history.ts does: a few at once, as a host's workers would finish them.
    await Promise.all(Array.from({ length: 4 }, worker));
  } finally {
    stores.db.close();
  }
  return performance.now() - started;
}

interface Endpoint {
  path: string;
  figure: string;
  rounds: { p50: number; p99: number }[];
}

/**
 * The trends and the flaky list of a workflow with 100,000 runs over a year, served by
 * `aegis serve`: sequential GETs of each endpoint, taking turns round by round; the figure is
 * the median of the rounds' p50s.
 */
export async function benchInsight(dir: string): Promise<Row[]> {
  const dbPath = join(dir, 'insight.db');
  const config = join(dir, 'insight.aegis.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      history_db_path: dbPath,
      services: { qaagent: { name: 'QA Agent', url: 'http://127.0.0.1:9' } },
      workflows: { [WORKFLOW]: { name: 'Nightly', steps: [{ type: 'test', service: 'qaagent' }] } },
    }),
  );
  const seedMs = await seed(dbPath, RUNS);
  const host = await startAegis({ config, env: { LOG_LEVEL: 'WARN' } });
  try {
    const endpoints: Endpoint[] = [
      ['stats?days=30', 'trends of the last 30 days'],
      ['stats?days=365', 'trends of the last 365 days (every run)'],
      ['tests?window=50', 'tests over the last 50 runs'],
      ['tests?window=500', 'tests over the last 500 runs'],
    ].map(([query, figure]) => ({
      path: `${host.url}/api/workflows/${WORKFLOW}/${query}`,
      figure: figure as string,
      rounds: [],
    }));
    const year = JSON.parse((await http(endpoints[1]?.path ?? '')).body) as { runs?: number };
    if (year.runs !== RUNS)
      throw new Error(`stats?days=365 counted ${year.runs} runs, not the ${RUNS} seeded`);
    for (const endpoint of endpoints)
      for (let i = 0; i < WARMUP_REQUESTS; i++) await http(endpoint.path);
    for (let r = 0; r < ROUNDS; r++)
      for (const endpoint of endpoints) {
        const times: number[] = [];
        for (let i = 0; i < REQUESTS_PER_ROUND; i++) times.push((await http(endpoint.path)).ms);
        endpoint.rounds.push({ p50: percentile(times, 50), p99: percentile(times, 99) });
      }
    const how = `${ROUNDS} × ${REQUESTS_PER_ROUND} sequential requests per endpoint, taking turns, after ${WARMUP_REQUESTS} warm-up; median of round p50s; ${RUNS.toLocaleString('en')} runs of one workflow over 365 days, seeded through enqueue + claim + finish with each run's test results (${round((seedMs * 1000) / RUNS, 0)} µs per run)`;
    return endpoints.map((endpoint, i) => {
      const p50 = median(endpoint.rounds.map((r) => r.p50));
      const p99 = median(endpoint.rounds.map((r) => r.p99));
      const path = endpoint.path.slice(host.url.length);
      return {
        section: 'insight',
        figure: `\`GET ${path}\`, ${endpoint.figure}, ${RUNS.toLocaleString('en')} runs stored`,
        measured: `p50 ${round(p50, 3)} ms, p99 ${round(p99, 3)} ms`,
        value: round(p50, 3),
        target: { max: TARGET_MS },
        targetText: `p50 < ${TARGET_MS} ms`,
        ...(i === 0 ? { note: how } : {}),
        detail: { runs: RUNS, seedMs, rounds: endpoint.rounds },
      };
    });
  } finally {
    await stopProcess(host.child);
  }
}
