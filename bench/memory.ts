import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { cliBundleOptions } from '../infra/cli-bundle.mjs';
import type { Row } from './report.ts';
import type { StubServices } from './stub-services.ts';
import {
  BENCH_DIR,
  freePort,
  hostLaunch,
  http,
  QUICK,
  ROOT,
  round,
  rssBytes,
  rssParts,
  sleep,
  spawnNode,
  startAegis,
  stopProcess,
  waitFor200,
} from './support.ts';
import { benchConfig, checkRun, WORKFLOW } from './workflow.ts';

/** Runs per half: RSS is read at idle, after the first half and after the second. */
const HALF = QUICK ? 2_000 : 5_000;
/** Sync runs in flight at once, as a few callers would start them. */
const IN_FLIGHT = 8;
/** The pipeline's 7 events, each one webhook delivery to the stubs. */
const DELIVERIES_PER_RUN = 7;
/** Decimal megabytes, as the targets (and `docker`) count them. */
const MB = 1e6;
/** BENCH_HEAP_SNAPSHOTS=/dir: a heap snapshot at each RSS reading, written there. */
const SNAPSHOT_DIR = process.env.BENCH_HEAP_SNAPSHOTS
  ? resolve(process.env.BENCH_HEAP_SNAPSHOTS)
  : undefined;

interface Reading {
  runs: number;
  rssMb: number;
  /** VmRSS's parts: the process's own memory and the mapped files. */
  anonMb: number;
  fileMb: number;
  snapshot?: string;
}

/**
 * `aegis serve` with the workflow section's config (its own history file), default INFO log:
 * its RSS at idle, after 5,000 and after 10,000 sync runs (8 in flight), each read after every
 * webhook has been delivered and 1 s of quiet.
 */
export async function benchMemory(dir: string, stubs: StubServices): Promise<Row[]> {
  const references = await referenceReadings(dir);
  const config = join(dir, 'memory.aegis.yaml');
  writeFileSync(config, JSON.stringify(benchConfig(stubs, join(dir, 'memory.db')), null, 2));
  if (SNAPSHOT_DIR) mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const launch = hostLaunch();
  if (SNAPSHOT_DIR) launch.nodeArgs.push('--heapsnapshot-signal=SIGUSR2');
  const host = await startAegis({
    config,
    env: { LOG_LEVEL: undefined },
    launch,
    ...(SNAPSHOT_DIR ? { cwd: SNAPSHOT_DIR } : {}),
  });
  const pid = host.child.pid ?? -1;
  const deliveries = () => stubs.counts.get('POST /webhooks') ?? 0;
  const deliveredBefore = deliveries();
  const readings: Reading[] = [];
  const runMs: number[] = [];
  let runs = 0;
  const read = async () => {
    await settle(() => deliveries() - deliveredBefore, runs * DELIVERIES_PER_RUN);
    await sleep(1000);
    const reading: Reading = { runs, ...rssReading(pid) };
    if (SNAPSHOT_DIR) reading.snapshot = await heapSnapshot(host.url, host.child, SNAPSHOT_DIR);
    readings.push(reading);
  };
  try {
    await read();
    for (const _half of [1, 2]) {
      const started = performance.now();
      const url = `${host.url}/api/workflows/${WORKFLOW}/run`;
      let next = 0;
      const via = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < HALF) {
            next++;
            const answer = await http(url, { method: 'POST', body: '{}', via });
            if (answer.status !== 200)
              throw new Error(`run answered ${answer.status}: ${answer.body}`);
            if (runs++ === 0) checkRun(answer.body);
          }
        }),
      );
      runMs.push(performance.now() - started);
      via.destroy();
      await read();
    }
  } finally {
    await stopProcess(host.child);
  }
  return rows(readings, runMs, references);
}

/** VmRSS and its parts, in MB. */
function rssReading(pid: number): Omit<Reading, 'runs'> {
  const parts = rssParts(pid);
  return {
    rssMb: round(rssBytes(pid) / MB, 1),
    anonMb: round(parts.anon / MB, 1),
    fileMb: round(parts.file / MB, 1),
  };
}

interface References {
  bare: Omit<Reading, 'runs'>;
  stack: Omit<Reading, 'runs'>;
}

/** A bare node:http server, then the asked-for stack alone (bench/stack-floor.ts), each idle. */
async function referenceReadings(dir: string): Promise<References> {
  const bare = `import { createServer } from 'node:http';
    createServer((_req, res) => res.end()).listen(Number(process.argv[1]), '127.0.0.1');`;
  const stackBundle = join(ROOT, 'dist', 'bench-stack-floor.mjs');
  // Beside the CLI bundle, so that the native libSQL binding resolves from node_modules as it does.
  await esbuild.build({
    ...cliBundleOptions(),
    entryPoints: [join(BENCH_DIR, 'stack-floor.ts')],
    outfile: stackBundle,
  });
  return {
    bare: await idleReading((port) => ['--input-type=module', '-e', bare, String(port)], '/'),
    stack: await idleReading(
      (port) => [stackBundle, String(port), join(dir, 'stack-floor.db')],
      '/x?limit=1',
    ),
  };
}

/**
 * Starts `node <args for a port>` in the hosts' environment and reads its RSS as the host's idle
 * RSS is read: 1 s after the first 200 on `path`.
 */
async function idleReading(
  args: (port: number) => string[],
  path: string,
): Promise<Omit<Reading, 'runs'>> {
  const port = await freePort();
  const child = spawnNode({ args: args(port), env: hostLaunch().env });
  try {
    await waitFor200(`http://127.0.0.1:${port}${path}`, { child });
    await sleep(1000);
    return rssReading(child.pid ?? -1);
  } finally {
    await stopProcess(child);
  }
}

/** Waits until `count()` reaches `expected` or stops moving for 5 s. */
async function settle(count: () => number, expected: number): Promise<void> {
  let last = -1;
  let stillSince = performance.now();
  while (count() < expected && performance.now() - stillSince < 5000) {
    if (count() !== last) {
      last = count();
      stillSince = performance.now();
    }
    await sleep(50);
  }
}

/** SIGUSR2 (--heapsnapshot-signal): waits for the new file, then for the host to answer again. */
async function heapSnapshot(
  url: string,
  child: { kill(signal: NodeJS.Signals): boolean },
  snapshotDir: string,
): Promise<string> {
  const list = () => readdirSync(snapshotDir).filter((f) => f.endsWith('.heapsnapshot'));
  const before = new Set(list());
  child.kill('SIGUSR2');
  for (const deadline = performance.now() + 60_000; performance.now() < deadline; ) {
    const file = list().find((f) => !before.has(f));
    // The snapshot is written on the host's main thread: once it answers, the file is complete.
    if (
      file &&
      (await http(`${url}/health`)).status === 200 &&
      statSync(join(snapshotDir, file)).size > 0
    )
      return join(snapshotDir, file);
    await sleep(100);
  }
  throw new Error(`no heap snapshot appeared in ${snapshotDir}`);
}

function rows(
  readings: readonly Reading[],
  runMs: readonly number[],
  references: References,
): Row[] {
  const [idle, first, second] = readings as [Reading, Reading, Reading];
  const snapshot = (r: Reading) => (r.snapshot ? { snapshot: r.snapshot } : {});
  const rate = (ms: number | undefined) => Math.round((HALF * 1000) / (ms ?? Number.NaN));
  const how = `${HALF.toLocaleString('en')} + ${HALF.toLocaleString('en')} sync runs, ${IN_FLIGHT} in flight (${rate(runMs[0])} and ${rate(runMs[1])} runs/s), 7 webhook deliveries each; VmRSS read once every delivery arrived and after 1 s of quiet${SNAPSHOT_DIR ? '; heap snapshots taken (they raise the later readings)' : ''}`;
  const growth = (from: Reading, to: Reading) => round(to.rssMb - from.rssMb, 1);
  const signed = (mb: number) => (mb < 0 ? `${mb}` : `+${mb}`);
  const parts = (r: Omit<Reading, 'runs'>) => `own ${r.anonMb} MB, mapped files ${r.fileMb} MB`;
  const over = (r: Omit<Reading, 'runs'>) => signed(round(idle.rssMb - r.rssMb, 1));
  return [
    {
      section: 'memory',
      figure: 'RSS of bare `node:http`, idle (reference)',
      measured: `${references.bare.rssMb} MB (${parts(references.bare)})`,
      note: 'the same environment as the hosts; VmRSS 1 s after its first 200, as the host',
    },
    {
      section: 'memory',
      figure: 'RSS of the asked-for packages alone, bundled as the CLI is, idle (reference)',
      measured: `${references.stack.rssMb} MB (${parts(references.stack)})`,
      note: 'bench/stack-floor.ts: express, serverless-http, zod, yaml, Powertools, @libsql/client (a file opened and read), prom-client, commander, each used once; none of Aegis',
    },
    {
      section: 'memory',
      figure: 'RSS of `aegis serve`, idle',
      measured: `${idle.rssMb} MB (${parts(idle)}) = ${over(references.bare)} MB over bare node:http, ${over(references.stack)} MB over the packages alone`,
      value: idle.rssMb,
      target: { max: 60 },
      targetText: '≤ 60 MB',
      note: '/proc/<pid>/status VmRSS, 1 s after the first 200 on /health',
      detail: snapshot(idle),
    },
    {
      section: 'memory',
      figure: `RSS growth over the first ${HALF.toLocaleString('en')} runs`,
      measured: `${signed(growth(idle, first))} MB (${first.rssMb} MB: ${parts(first)})`,
      value: growth(idle, first),
      target: { max: 30 },
      targetText: '≤ 30 MB',
      note: how,
      detail: { ...snapshot(first), runMs: runMs[0] },
    },
    {
      section: 'memory',
      figure: `RSS growth over the next ${HALF.toLocaleString('en')} runs`,
      measured: `${signed(growth(first, second))} MB (${second.rssMb} MB: ${parts(second)})`,
      value: growth(first, second),
      target: { max: 8 },
      targetText: '≤ 8 MB',
      detail: { ...snapshot(second), runMs: runMs[1] },
    },
  ];
}
