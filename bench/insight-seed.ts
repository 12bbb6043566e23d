// A child of bench/insight.ts: seeds one chunk of runs and exits, which returns the memory the
// libSQL client keeps after each write batch (tursodatabase/libsql-client-ts#333) — about
// 150 KB per run here, too much for 100,000 runs in one process.
import { defaultConfig } from '#shared/config/schema.ts';
import { stepStatement } from '#shared/history/history-store.ts';
import { insightStatements } from '#shared/insight/record.ts';
import { openStores } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { childInput, reply } from './child.ts';

export interface SeedChunk {
  dbPath: string;
  workflow: string;
  /** Runs [from, to) of `runs`, queued evenly from `first` (ms) over `span` ms. */
  from: number;
  to: number;
  runs: number;
  first: number;
  span: number;
}

const OWNER = 'bench-seed';

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
 * Writes the chunk's runs through the run queue's own API, as a run through the host would be
 * (enqueue, claim, finish with its step and the step's test results): no SQL of its own.
 * Durations vary from 1 to 6 s; one run in twenty fails.
 */
async function seedChunk(chunk: SeedChunk): Promise<void> {
  const stores = await openStores({ ...defaultConfig(), history_db_path: chunk.dbPath }, {});
  try {
    for (let n = chunk.from; n < chunk.to; n++) {
      const now = chunk.first + Math.floor((n * chunk.span) / chunk.runs);
      const queued = await stores.queue.enqueue({
        workflow: chunk.workflow,
        settings: { on_interrupt: 'none' },
        trigger: 'schedule',
        now,
      });
      if (queued.kind !== 'queued') throw new Error('seeding: a run was not queued');
      const claim = await stores.queue.claim({
        owner: OWNER,
        leaseMs: 60_000,
        workflows: [chunk.workflow],
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
  } finally {
    stores.db.close();
  }
}

await seedChunk(childInput<SeedChunk>());
reply({ seeded: true });
