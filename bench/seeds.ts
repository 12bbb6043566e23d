// The big seeded histories: 100,000 runs for the history and metrics sections, 100,000 runs with
// test results for the insight section. Seeding them is most of the bench's time, so each file
// is seeded once, and both at the same time: each seeding is a chain of child processes that keeps
// one core busy (its runs must be written in order). The sections that measure on them wait for
// both, so that no seeding disturbs a measurement.
import { join } from 'node:path';
import type { SeedChunk } from './insight-seed.ts';
import type { SeedInput } from './seed-child.ts';
import { QUICK, runTsChild } from './support.ts';

/** The big history of the history and metrics sections. */
export const HISTORY_RUNS = Number(process.env.BENCH_HISTORY_RUNS ?? (QUICK ? 10_000 : 100_000));
/** The runs of the insight section's workflow. */
export const INSIGHT_RUNS = Number(process.env.BENCH_INSIGHT_RUNS ?? (QUICK ? 10_000 : 100_000));
export const INSIGHT_WORKFLOW = 'nightly';
/** Runs per seeding process: the libSQL client keeps native memory per write batch until its process exits (libsql-client-ts #333). */
const CHUNK = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Seeded {
  dbPath: string;
  runs: number;
  ms: number;
}

/** `runs` runs of 5 steps, through the run queue's own API (seed-child.ts, `seedHistory`). */
async function seedHistoryFile(dbPath: string, runs: number): Promise<Seeded> {
  const started = performance.now();
  for (let seeded = 0; seeded < runs; seeded += CHUNK) {
    const input: SeedInput = { dbPath, runs: Math.min(CHUNK, runs - seeded) };
    await runTsChild('seed-child.ts', input);
  }
  return { dbPath, runs, ms: performance.now() - started };
}

/**
 * `runs` runs of INSIGHT_WORKFLOW, evenly over the last 365 UTC days, with their test results
 * (insight-seed.ts: through the run queue's own API).
 */
async function seedInsightFile(dbPath: string, runs: number): Promise<Seeded> {
  const started = performance.now();
  // From 00:00 UTC 364 days ago to now: the 365 UTC days of `days=365`, today included.
  const first = Math.floor(Date.now() / DAY_MS) * DAY_MS - 364 * DAY_MS;
  const span = Date.now() - first;
  for (let from = 0; from < runs; from += CHUNK) {
    const chunk: SeedChunk = {
      dbPath,
      workflow: INSIGHT_WORKFLOW,
      from,
      to: Math.min(runs, from + CHUNK),
      runs,
      first,
      span,
    };
    await runTsChild('insight-seed.ts', chunk);
  }
  return { dbPath, runs, ms: performance.now() - started };
}

export class Seeds {
  #history?: Promise<Seeded>;
  #insight?: Promise<Seeded>;
  #done?: Promise<void>;
  /** From the start of the seeding to its end, for the results file. */
  seconds = Number.NaN;

  readonly #dir: string;
  /** Which files the selected sections need. */
  readonly wanted: { history: boolean; insight: boolean };

  constructor(dir: string, wanted: { history: boolean; insight: boolean }) {
    this.#dir = dir;
    this.wanted = wanted;
  }

  get started(): boolean {
    return this.#done !== undefined;
  }

  /** Starts every wanted seeding (once); they run while the caller goes on. */
  start(): void {
    if (this.#done) return;
    const started = performance.now();
    if (this.wanted.history)
      this.#history = seedHistoryFile(join(this.#dir, 'history-large.db'), HISTORY_RUNS);
    if (this.wanted.insight)
      this.#insight = seedInsightFile(join(this.#dir, 'insight.db'), INSIGHT_RUNS);
    // Settled here, so that a failed seeding is never an unhandled rejection (history() throws it).
    this.#done = Promise.allSettled([this.#history, this.#insight]).then(() => {
      this.seconds = (performance.now() - started) / 1000;
    });
  }

  /** Every seeding done: nothing else is writing when a measurement starts. */
  async #quiet(): Promise<void> {
    this.start();
    await this.#done;
  }

  /**
   * The 5-step history of HISTORY_RUNS runs. The metrics section queues runs in it afterwards, so
   * the history section (which runs before it) sees finished runs only.
   */
  async history(): Promise<Seeded> {
    await this.#quiet();
    if (!this.#history) throw new Error('the big history was not wanted');
    return this.#history;
  }

  async insight(): Promise<Seeded> {
    await this.#quiet();
    if (!this.#insight) throw new Error('the insight history was not wanted');
    return this.#insight;
  }
}
