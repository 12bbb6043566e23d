import type { Row } from './report.ts';
import type { StubServices } from './stub-services.ts';
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

export const WORKFLOW = 'full_pipeline';
const ROUNDS = 3;
const RUNS_PER_ROUND = QUICK ? 100 : 300;

/** The configuration the host is measured with: the demo's 5-step pipeline against the stubs. */
export function benchConfig(stubs: StubServices, dbPath: string) {
  return {
    aegis: { name: 'Aegis bench', version: '0.1.0' },
    history_db_path: dbPath,
    // Every event queues a webhook delivery, as in examples/demo.aegis.yaml: the outbox is exercised.
    webhooks: [{ url: `${stubs.url}/webhooks`, events: ['*'] }],
    services: {
      qaagent: { name: 'QA agent (stub)', url: stubs.url },
      bugalizer: { name: 'Bug tracker (stub)', url: stubs.url },
    },
    workflows: {
      [WORKFLOW]: {
        name: 'Full QA Pipeline',
        steps: [
          { type: 'discover', service: 'qaagent' },
          { type: 'test', service: 'qaagent' },
          { type: 'submit_bugs', service: 'bugalizer', condition: 'has_failures' },
          { type: 'verify', service: 'qaagent', condition: 'has_failures' },
          { type: 'report', service: 'qaagent', condition: 'always' },
        ],
      },
    },
  };
}

interface RunRound {
  p50: number;
  p99: number;
  max: number;
}

/**
 * `POST /api/workflows/full_pipeline/run`, one run after another, against `aegis serve` (default
 * logging) and instant stubs: 3 rounds of 300; the first warms up, the figures are the medians of
 * the other rounds' percentiles.
 */
export async function benchWorkflow(config: string, stubs: StubServices): Promise<Row[]> {
  const host = await startAegis({ config, env: { LOG_LEVEL: undefined } });
  const rounds: RunRound[] = [];
  let runs = 0;
  try {
    await sleep(1000);
    const url = `${host.url}/api/workflows/${WORKFLOW}/run`;
    for (let r = 0; r < ROUNDS; r++) {
      const times: number[] = [];
      for (let i = 0; i < RUNS_PER_ROUND; i++) {
        const answer = await http(url, { method: 'POST', body: '{}' });
        runs++;
        if (answer.status !== 200) throw new Error(`run answered ${answer.status}: ${answer.body}`);
        if (runs === 1) checkRun(answer.body);
        times.push(answer.ms);
      }
      rounds.push({
        p50: percentile(times, 50),
        p99: percentile(times, 99),
        max: Math.max(...times),
      });
    }
    const history = JSON.parse((await http(`${host.url}/api/history?limit=1`)).body) as unknown[];
    if (history.length !== 1) throw new Error('the runs were not recorded');
  } finally {
    await stopProcess(host.child);
  }
  const measured = rounds.slice(1);
  const p50 = round(median(measured.map((r) => r.p50)));
  const p99 = round(median(measured.map((r) => r.p99)));
  const how = `${ROUNDS - 1} × ${RUNS_PER_ROUND} sequential runs after ${RUNS_PER_ROUND} warm-up; stubs answer at once; 7 events and 7 webhook deliveries per run`;
  return [
    {
      section: 'workflow',
      figure: '5-step workflow run, p50',
      measured: `${p50} ms`,
      value: p50,
      target: { max: 10 },
      targetText: '≤ 10 ms',
      note: how,
      detail: { rounds, webhookDeliveriesReceived: stubs.counts.get('POST /webhooks') ?? 0 },
    },
    {
      section: 'workflow',
      figure: '5-step workflow run, p99',
      measured: `${p99} ms`,
      value: p99,
      target: { max: 20 },
      targetText: '≤ 20 ms',
    },
  ];
}

/** The first run must have gone through all five steps and succeeded, or the figures mean nothing. */
export function checkRun(body: string): void {
  const run = JSON.parse(body) as { success?: boolean; steps?: { skipped?: boolean }[] };
  const ran = run.steps?.filter((s) => !s.skipped).length;
  if (run.success !== true || ran !== 5)
    throw new Error(`the workflow did not run its 5 steps successfully: ${body.slice(0, 500)}`);
}
