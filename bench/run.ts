// `npm run bench`: starts what it measures on 127.0.0.1, prints one table, writes it as JSON
// under bench/results/. A missed target is reported, never a failure: the exit code is 0 unless
// the harness itself broke. BENCH_QUICK=1 gives a rough run in a fraction of the time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchApi } from './api.ts';
import { benchContainer } from './container.ts';
import { benchHandler } from './handler.ts';
import { benchHistory } from './history.ts';
import { benchInsight } from './insight.ts';
import { benchLambda } from './lambda.ts';
import { benchMemory } from './memory.ts';
import { benchQueue } from './queue.ts';
import {
  describeMachine,
  type EvaluatedRow,
  evaluate,
  machineLine,
  markdownTable,
  type Row,
} from './report.ts';
import { Seeds } from './seeds.ts';
import { benchStartup } from './startup.ts';
import { benchScrape, benchStream } from './stream.ts';
import { startStubServices } from './stub-services.ts';
import { BENCH_DIR, QUICK, ROOT, round } from './support.ts';
import { benchThroughput } from './throughput.ts';
import { benchConfig, benchWorkflow } from './workflow.ts';

const started = performance.now();
const machine = describeMachine();
const log = (message: string) =>
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`,
  );

if (process.env.BENCH_NO_BUILD !== '1' && !process.env.BENCH_AEGIS_CLI) {
  log('building dist/aegis.mjs (npm run build)');
  execFileSync(process.execPath, [join(ROOT, 'infra', 'build.mjs'), 'cli'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-'));
// Removed however the bench ends (Ctrl-C included); the children are killed first (support.ts).
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const stubs = await startStubServices();
const config = join(dir, 'bench.aegis.yaml');
// JSON is YAML: the host reads this like any .aegis.yaml.
writeFileSync(config, JSON.stringify(benchConfig(stubs, join(dir, 'history.db')), null, 2));

const allSections: [string, string, () => Promise<Row[]>][] = [
  ['http', '/health under load, against a bare node:http server', () => benchThroughput(config)],
  [
    'api',
    'config-only reads under load, against bare Express and node:http',
    () => benchApi(config, dir),
  ],
  ['handler', 'the health handler, called directly', () => benchHandler(config)],
  ['workflow', '5-step workflow runs, one at a time', () => benchWorkflow(config, stubs)],
  ['queue', 'the run queue: async latency and drain rate', () => benchQueue(config)],
  ['stream', 'the event stream: 100 SSE clients while runs go on', () => benchStream(config)],
  ['startup', 'start-up to the first 200', () => benchStartup(config)],
  ['lambda', 'Lambda bundles', () => benchLambda()],
  ['container', 'container image', () => benchContainer()],
  ['memory', 'RSS of aegis serve over 10,000 runs', () => benchMemory(dir, stubs)],
  // Last: seeding writes a few hundred MB, whose write-back would slow the start-up and import timings.
  [
    'history',
    'GET /api/history under load with 1,000 and 100,000 runs',
    () => benchHistory(dir, seeds),
  ],
  ['metrics', 'GET /metrics with 100 and 100,000 runs', () => benchScrape(dir, seeds)],
  ['insight', "a workflow's trends and tests with 100,000 runs", () => benchInsight(dir, seeds)],
];
// BENCH_ONLY=http,workflow runs those sections alone (the table is then partial).
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const sections = allSections.filter(([key]) => !only || only.includes(key));
const selected = (key: string) => sections.some(([k]) => k === key);
const seeds = new Seeds(dir, {
  history: selected('history') || selected('metrics'),
  insight: selected('insight'),
});
// The seeding starts with the memory section, which runs alongside it: RSS does not depend on the
// CPU share, and the insight seeding's one chain of writes leaves a core to spare.
const STARTS_SEEDING = new Set(['memory', 'history', 'metrics', 'insight']);

const rows: EvaluatedRow[] = [];
const timings: Record<string, number> = {};
try {
  for (const [key, name, run] of sections) {
    if (STARTS_SEEDING.has(key) && (seeds.wanted.history || seeds.wanted.insight)) {
      if (!seeds.started) log('seeding the big histories in child processes');
      seeds.start();
    }
    log(name);
    const sectionStart = performance.now();
    try {
      rows.push(...(await run()).map(evaluate));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  failed: ${message}`);
      rows.push(evaluate({ section: key, figure: name, measured: `harness error: ${message}` }));
      process.exitCode = 1;
    }
    timings[name] = round((performance.now() - sectionStart) / 1000, 1);
  }
  if (seeds.started)
    timings['seeding the big histories (in the background)'] = round(seeds.seconds, 1);
} finally {
  await stubs.close();
  rmSync(dir, { recursive: true, force: true });
}

// The table in the issue's order, whatever order the sections ran in.
const ORDER = [
  'http',
  'api',
  'handler',
  'workflow',
  'queue',
  'history',
  'stream',
  'metrics',
  'insight',
  'memory',
  'startup',
  'lambda',
  'container',
];
const rank = (row: EvaluatedRow) => {
  const index = ORDER.indexOf(row.section);
  return index === -1 ? ORDER.length : index;
};
rows.sort((a, b) => rank(a) - rank(b));

machine.loadAverage.end = Math.round((loadavg()[0] ?? 0) * 100) / 100;
const elapsedS = round((performance.now() - started) / 1000, 1);
const missed = rows.filter((row) => row.status === 'MISSED');
const table = markdownTable(rows);
// The command as run: every BENCH_* setting in front of it.
const command = [
  ...Object.entries(process.env)
    .filter(([name, value]) => name.startsWith('BENCH_') && value)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${/^[\w.,:/=@-]*$/.test(value ?? '') ? value : `'${value}'`}`),
  'npm run bench',
].join(' ');

process.stdout.write(`\n${table}\n\n`);
process.stdout.write(`Machine: ${machineLine(machine)}\n`);
process.stdout.write(
  `Command: \`${command}\`, ${elapsedS} s${QUICK ? ' (quick mode: rough figures)' : ''}\n`,
);
process.stdout.write(
  missed.length === 0
    ? 'Every target met.\n'
    : `Missed (${missed.length}): ${missed.map((row) => row.figure).join('; ')}\n`,
);

const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const result = {
  date: new Date().toISOString(),
  command,
  quick: QUICK,
  elapsedSeconds: elapsedS,
  sectionSeconds: timings,
  machine,
  rows,
  table,
};
const file = join(
  resultsDir,
  `bench-${result.date.replaceAll(':', '-').replace(/\..*$/, '')}.json`,
);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`Written: ${file.slice(ROOT.length + 1)} (and bench/results/latest.json)\n`);
