import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { defaultConfig } from '#shared/config/schema.ts';
import { openStores } from '#shared/stores.ts';
import type { Row } from './report.ts';
import type { SeedInput } from './seed-child.ts';
import type { Seeds } from './seeds.ts';
import {
  cpuMs,
  http,
  median,
  percentile,
  QUICK,
  round,
  runTsChild,
  sleep,
  startAegis,
  stopProcess,
} from './support.ts';
import { WORKFLOW } from './workflow.ts';

const CLIENTS = 100;
const ROUNDS = QUICK ? 2 : 3;
const RUNS_PER_ROUND = QUICK ? 40 : 100;
/** Runs at once, as several callers would start them. */
const CONCURRENCY = 4;
/** The bench config's pipeline: workflow.started, 5 step.completed, workflow.completed (no step fails). */
const EVENTS_PER_RUN = 7;
const SCRAPES = QUICK ? 50 : 100;
/** Runs left queued in the big history, so the queue gauges have rows to count. */
const QUEUED = 50;

/** One SSE client on a socket of its own: counts the events and how late each arrived. */
interface Client {
  received: number;
  latenciesMs: number[];
  close(): void;
}

/** A bare `text/event-stream` reader, so the bench measures the host, not a client library. */
function connect(url: string, agent: Agent): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = { received: 0, latenciesMs: [], close: () => req.destroy() };
    const req = request(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        return;
      }
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end !== -1) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (data) {
            const event = JSON.parse(data.slice(6)) as { timestamp: string };
            client.received++;
            client.latenciesMs.push(Date.now() - Date.parse(event.timestamp));
          }
          end = buffered.indexOf('\n\n');
        }
      });
      resolve(client);
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

async function runMany(url: string, runs: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < runs) {
      started++;
      const answer = await http(url, { method: 'POST', body: '{}', keepAlive: false });
      if (answer.status !== 200) throw new Error(`run answered ${answer.status}: ${answer.body}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

interface FanOutRound {
  clients: number;
  cpuMsPerEvent: number;
}

/**
 * The stream's fan-out (SPEC §13): rounds of runs against `aegis serve`,
 * taking turns without and with 100 connected SSE clients, so both see the
 * same machine. The host's extra CPU per event is the difference of its CPU
 * time per stored event; the latency is from an event's timestamp (set when
 * the engine emits it) to its arrival at a client, over every client.
 */
export async function benchStream(config: string): Promise<Row[]> {
  const host = await startAegis({ config, env: { LOG_LEVEL: 'WARN' } });
  const agent = new Agent({ keepAlive: false, maxSockets: CLIENTS + 1 });
  const runUrl = `${host.url}/api/workflows/${WORKFLOW}/run`;
  const rounds: FanOutRound[] = [];
  const latencies: number[] = [];
  let delivered = 0;
  let expected = 0;
  try {
    await runMany(runUrl, 20); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const clients of [0, CLIENTS]) {
        const connected = await Promise.all(
          Array.from({ length: clients }, () => connect(`${host.url}/api/events/stream`, agent)),
        );
        await sleep(200);
        const before = cpuMs(host.child.pid ?? -1);
        await runMany(runUrl, RUNS_PER_ROUND);
        await sleep(500); // the last events reach the clients (and the webhooks their receiver)
        const cpu = cpuMs(host.child.pid ?? -1) - before;
        rounds.push({ clients, cpuMsPerEvent: cpu / (RUNS_PER_ROUND * EVENTS_PER_RUN) });
        for (const client of connected) {
          delivered += client.received;
          latencies.push(...client.latenciesMs);
          client.close();
        }
        expected += clients * RUNS_PER_ROUND * EVENTS_PER_RUN;
      }
    }
  } finally {
    agent.destroy();
    await stopProcess(host.child);
  }
  const perEvent = (clients: number) =>
    median(rounds.filter((r) => r.clients === clients).map((r) => r.cpuMsPerEvent));
  const baseline = perEvent(0);
  const extraUs = (perEvent(CLIENTS) - baseline) * 1000;
  const p99 = percentile(latencies, 99);
  const how = `${ROUNDS} rounds × ${RUNS_PER_ROUND} runs (${CONCURRENCY} at once) of the ${EVENTS_PER_RUN}-event pipeline, taking turns with 0 and ${CLIENTS} clients; host CPU from /proc`;
  return [
    {
      section: 'stream',
      figure: `event stream, ${CLIENTS} clients: host CPU per event`,
      measured: `+${round(extraUs, 0)} µs per event (${round(extraUs / CLIENTS, 2)} µs per client) = ${round(perEvent(CLIENTS) / baseline, 2)} × the CPU per event without clients`,
      value: round(perEvent(CLIENTS) / baseline, 3),
      note: how,
      detail: { rounds, baselineMsPerEvent: baseline },
    },
    {
      section: 'stream',
      figure: `event stream, ${CLIENTS} clients: delivery latency p99`,
      measured: `p99 ${round(p99, 1)} ms, p50 ${round(percentile(latencies, 50), 1)} ms; ${delivered.toLocaleString('en')} of ${expected.toLocaleString('en')} delivered`,
      value: delivered === expected ? round(p99, 1) : Number.NaN,
      target: { max: 1000 },
      targetText: '≤ 1000 ms, every event to every client',
      note: 'from the event timestamp to its arrival at the client',
    },
  ];
}

/** A history of finished runs plus some queued ones, served by a host that executes none. */
async function scrapeHost(dir: string, name: string, dbPath: string) {
  const config = join(dir, `${name}.aegis.yaml`);
  writeFileSync(config, JSON.stringify({ history_db_path: dbPath }));
  const stores = await openStores({ ...defaultConfig(), history_db_path: dbPath }, {});
  try {
    for (let i = 0; i < QUEUED; i++)
      await stores.queue.enqueue({
        workflow: 'smoke',
        settings: { on_interrupt: 'none' },
        trigger: 'api',
      });
  } finally {
    stores.db.close();
  }
  const host = await startAegis({ config, env: { AEGIS_RUN_WORKERS: '0', LOG_LEVEL: 'WARN' } });
  const check = await http(`${host.url}/metrics`);
  if (check.status !== 200 || !check.body.includes(`aegis_runs_queued{workflow="smoke"} ${QUEUED}`))
    throw new Error(`GET /metrics did not report the ${QUEUED} queued runs`);
  return host;
}

/** `GET /metrics` p50 and p99 over sequential scrapes, after 20 warm-up ones. */
async function scrapeTimes(url: string): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 20; i++) await http(url);
  const times: number[] = [];
  for (let i = 0; i < SCRAPES; i++) times.push((await http(url)).ms);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/**
 * The scrape over a history of 100 runs and of 100,000 (SPEC §13: ≤ 50 ms), taking turns; the big
 * one is the history section's file, which it measured before these runs were queued in it.
 */
export async function benchScrape(dir: string, seeds: Seeds): Promise<Row[]> {
  const seeded = await seeds.history();
  const smallDb = join(dir, 'scrape-100.db');
  const seedInput: SeedInput = { dbPath: smallDb, runs: 100 };
  await runTsChild('seed-child.ts', seedInput);
  const small = await scrapeHost(dir, 'scrape-100', smallDb);
  try {
    const large = await scrapeHost(dir, 'scrape-large', seeded.dbPath);
    try {
      const sides = { small: [] as number[], large: [] as number[], largeP99: [] as number[] };
      for (let r = 0; r < 3; r++) {
        sides.small.push((await scrapeTimes(`${small.url}/metrics`)).p50);
        const big = await scrapeTimes(`${large.url}/metrics`);
        sides.large.push(big.p50);
        sides.largeP99.push(big.p99);
      }
      const p50 = median(sides.large);
      const ratio = p50 / median(sides.small);
      return [
        {
          section: 'metrics',
          figure: `\`GET /metrics\`, ${seeded.runs.toLocaleString('en')} runs stored`,
          measured: `p50 ${round(p50, 2)} ms = ${round(ratio, 2)} × at 100 runs, p99 ${round(median(sides.largeP99), 2)} ms`,
          value: round(p50, 2),
          target: { max: 50 },
          targetText: '≤ 50 ms',
          note: `3 rounds × ${SCRAPES} sequential scrapes per history, taking turns; ${QUEUED} runs queued in each; seeded through the queue's own API`,
          detail: sides,
        },
      ];
    } finally {
      await stopProcess(large.child);
    }
  } finally {
    await stopProcess(small.child);
  }
}
