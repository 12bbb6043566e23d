import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './report.ts';
import { type Seeds, INSIGHT_WORKFLOW as WORKFLOW } from './seeds.ts';
import { http, median, percentile, QUICK, round, startAegis, stopProcess } from './support.ts';

const ROUNDS = 3;
const REQUESTS_PER_ROUND = QUICK ? 30 : 50;
const WARMUP_REQUESTS = 20;
/** The 50 ms of SPEC §14. */
const TARGET_MS = 50;

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
export async function benchInsight(dir: string, seeds: Seeds): Promise<Row[]> {
  const { dbPath, runs, ms: seedMs } = await seeds.insight();
  const config = join(dir, 'insight.aegis.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      history_db_path: dbPath,
      services: { qaagent: { name: 'QA Agent', url: 'http://127.0.0.1:9' } },
      workflows: { [WORKFLOW]: { name: 'Nightly', steps: [{ type: 'test', service: 'qaagent' }] } },
    }),
  );
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
    if (year.runs !== runs)
      throw new Error(`stats?days=365 counted ${year.runs} runs, not the ${runs} seeded`);
    for (const endpoint of endpoints)
      for (let i = 0; i < WARMUP_REQUESTS; i++) await http(endpoint.path);
    for (let r = 0; r < ROUNDS; r++)
      for (const endpoint of endpoints) {
        const times: number[] = [];
        for (let i = 0; i < REQUESTS_PER_ROUND; i++) times.push((await http(endpoint.path)).ms);
        endpoint.rounds.push({ p50: percentile(times, 50), p99: percentile(times, 99) });
      }
    const how = `${ROUNDS} × ${REQUESTS_PER_ROUND} sequential requests per endpoint, taking turns, after ${WARMUP_REQUESTS} warm-up; median of round p50s; ${runs.toLocaleString('en')} runs of one workflow over 365 days, seeded through enqueue + claim + finish with each run's test results, 10,000 runs per process, alongside the history seeding (${round((seedMs * 1000) / runs, 0)} µs per run)`;
    return endpoints.map((endpoint, i) => {
      const p50 = median(endpoint.rounds.map((r) => r.p50));
      const p99 = median(endpoint.rounds.map((r) => r.p99));
      const path = endpoint.path.slice(host.url.length);
      return {
        section: 'insight',
        figure: `\`GET ${path}\`, ${endpoint.figure}, ${runs.toLocaleString('en')} runs stored`,
        measured: `p50 ${round(p50, 3)} ms, p99 ${round(p99, 3)} ms`,
        value: round(p50, 3),
        target: { max: TARGET_MS },
        targetText: `p50 < ${TARGET_MS} ms`,
        ...(i === 0 ? { note: how } : {}),
        detail: { runs: runs, seedMs, rounds: endpoint.rounds },
      };
    });
  } finally {
    await stopProcess(host.child);
  }
}
