import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InStatement, InValue } from '@libsql/client';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Client, openDatabase } from '#shared/db/open.ts';
import { resolveDatabaseTarget } from '#shared/db/target.ts';
import {
  HistoryStore,
  type ListRunsOptions,
  listRunsStatement,
  retentionStatements,
} from './history-store.ts';

/**
 * SPEC §4: "a history of a million runs answers 'newest 10' as fast as a
 * history of ten: indexes, and no query per run". Shown on 100,000 runs by
 * the query plans, by SQLite's own counters of the work a statement did, and
 * by counting the queries.
 */

const LARGE = 100_000;
/** Eleven runs per workflow: a full page of 10 for each, as on the large history. */
const SMALL = 44;
const STEPS_PER_RUN = 5;
const WORKFLOWS = ['full_pipeline', 'smoke', 'nightly', 'release'];

/** Seeds `runs` completed runs of STEPS_PER_RUN steps in one transaction, as SQL (the store's API is for the benchmark). */
async function seed(db: Client, runs: number): Promise<void> {
  await db.batch(
    [
      {
        sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :runs)
              INSERT INTO runs (run_id, workflow_name, status, success, queued_at, started_at, completed_at,
                duration_ms, trigger)
              SELECT printf('run-%07d', i), json_extract(:workflows, printf('$[%d]', i % :count)),
                'completed', i % 2,
                strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i, 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i, 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%fZ', 1767225601 + i, 'unixepoch'), 1000, 'api'
              FROM n`,
        args: { runs, workflows: JSON.stringify(WORKFLOWS), count: WORKFLOWS.length },
      },
      {
        sql: `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < :last)
              INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, duration_ms,
                error, attempts, attempt_details, data)
              SELECT r.run_id, k.i, 'discover', 'qaagent', 1, 0, 12.5, NULL, 1,
                '[{"attempt":1,"success":true,"error":null,"duration_ms":12.5}]', '{"route_count":2}'
              FROM runs AS r, k`,
        args: { last: STEPS_PER_RUN - 1 },
      },
    ],
    'write',
  );
}

/** SQLite's counters for one execution of a statement (the `sqlite_stmt` virtual table). */
interface StatementWork {
  /** Rows stepped through by full-table scans (SQLITE_STMTSTATUS_FULLSCAN_STEP). */
  nscan: number;
  /** Sorts (SQLITE_STMTSTATUS_SORT). */
  nsort: number;
  /** Virtual machine steps (SQLITE_STMTSTATUS_VM_STEP): the work done. */
  nstep: number;
  rows: number;
}

/**
 * Runs the exact statement on its own connection to the file and reads what
 * it cost. This goes through `libsql`, the driver under `@libsql/client`,
 * because the client drops its statements once they ran, and SQLite forgets
 * a statement's counters once it is finalized: here it is held until read.
 */
function measure(path: string, statement: InStatement): StatementWork {
  const raw = new Database(path);
  try {
    const sql = typeof statement === 'string' ? statement : statement.sql;
    const args = typeof statement === 'string' ? {} : (statement.args ?? {});
    const prepared = raw.prepare<Record<string, InValue>>(sql);
    const rows = prepared.all(args as Record<string, InValue>).length;
    const counters = raw
      .prepare('SELECT sql, nscan, nsort, nstep FROM sqlite_stmt WHERE sql = ?')
      .get(sql) as { nscan: number; nsort: number; nstep: number } | undefined;
    if (!counters) throw new Error('the statement is not in sqlite_stmt');
    return { nscan: counters.nscan, nsort: counters.nsort, nstep: counters.nstep, rows };
  } finally {
    raw.close();
  }
}

async function queryPlan(db: Client, statement: InStatement): Promise<string[]> {
  const { sql, args } = typeof statement === 'string' ? { sql: statement, args: [] } : statement;
  const plan = await db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: args ?? [] });
  return plan.rows.map((row) => String(row.detail));
}

const PAGES: [string, ListRunsOptions, string][] = [
  ['all workflows', { limit: 10 }, 'SCAN r'],
  [
    'one workflow',
    { workflow: 'smoke', limit: 10 },
    'SEARCH r USING INDEX runs_by_workflow (workflow_name=?)',
  ],
  [
    'one status',
    { status: 'completed', limit: 10 },
    'SEARCH r USING INDEX runs_by_status (status=?)',
  ],
  [
    'one workflow and status',
    { workflow: 'smoke', status: 'completed', limit: 10 },
    'SEARCH r USING INDEX runs_by_workflow_status (workflow_name=? AND status=?)',
  ],
];

let dir: string;
let large: { db: Client; path: string };
let small: { db: Client; path: string };
let seedMs = 0;

async function seeded(name: string, runs: number): Promise<{ db: Client; path: string }> {
  const path = join(dir, name);
  const db = await openDatabase(resolveDatabaseTarget(path, {}));
  await seed(db, runs);
  return { db, path };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-scale-'));
  const started = performance.now();
  large = await seeded('large.db', LARGE);
  seedMs = performance.now() - started;
  small = await seeded('small.db', SMALL);
});

afterAll(() => {
  large?.db.close();
  small?.db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`"newest 10" over ${LARGE.toLocaleString('en')} runs`, () => {
  it('has the runs it was seeded with', async () => {
    const n = await large.db.execute('SELECT count(*) AS n FROM runs');
    expect(n.rows[0]?.n).toBe(LARGE);
    console.info(`seeded ${LARGE} runs × ${STEPS_PER_RUN} steps in ${Math.round(seedMs)} ms`);
  });

  it.each(PAGES)(
    '%s: walks an index backwards, with no sort and no full scan of runs',
    async (_, options, access) => {
      const plan = await queryPlan(large.db, listRunsStatement(options));

      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
      // One workflow's runs are searched through its index; all runs are walked backwards along the
      // primary key (SCAN with no sort after it: in order, so the LIMIT stops it, as the counters show).
      const runsAccess = plan.filter((detail) => /^(SCAN|SEARCH) r\b/.test(detail));
      expect(runsAccess).toEqual([access]);
      // Each run's steps, and its test counts (SPEC §14), come through their primary keys.
      expect(plan).toContain('SEARCH s USING PRIMARY KEY (run_id=?)');
      expect(plan).toContain('SEARCH t USING PRIMARY KEY (run_id=?)');
    },
  );

  it.each(PAGES)(`%s: does the same work over ${LARGE} runs as over ${SMALL}`, (_, options) => {
    const statement = listRunsStatement(options);

    const onLarge = measure(large.path, statement);
    const onSmall = measure(small.path, statement);
    const fullScan = measure(large.path, 'SELECT count(*) FROM runs WHERE duration_ms >= 0');

    expect([onLarge.rows, onSmall.rows]).toEqual([10, 10]);
    expect(onLarge.nsort).toBe(0);
    expect(onLarge.nscan).toBeLessThanOrEqual(10); // rows stepped by a full-table loop: the page, not the table
    expect(fullScan.nscan).toBeGreaterThanOrEqual(LARGE - 1);
    // The same work whatever the history's size, and a tiny fraction of reading every run.
    expect(onLarge.nstep).toBeLessThan(fullScan.nstep / 100);
    expect(onLarge.nstep).toBeLessThanOrEqual(onSmall.nstep * 1.1);
  });

  it.each(PAGES)(
    '%s: is one query, however many runs and steps the page holds',
    async (_, options) => {
      const history = new HistoryStore(large.db, { maxRecordsPerWorkflow: 0 });
      const execute = vi.spyOn(large.db, 'execute');
      const batch = vi.spyOn(large.db, 'batch');
      try {
        const page = await history.listRuns(options);

        expect(page).toHaveLength(10);
        expect(page.every((run) => run.step_count === STEPS_PER_RUN)).toBe(true);
        expect(execute).toHaveBeenCalledTimes(1);
        expect(batch).not.toHaveBeenCalled();
      } finally {
        execute.mockRestore();
        batch.mockRestore();
      }
    },
  );

  it(`answers in about the same time as over ${SMALL} runs`, async () => {
    const timeOf = async (db: Client) => {
      const history = new HistoryStore(db, { maxRecordsPerWorkflow: 0 });
      for (let i = 0; i < 20; i++) await history.listRuns({ limit: 10 }); // warm up
      const times: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        await history.listRuns({ limit: 10 });
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[times.length / 2] as number;
    };
    const onLarge = await timeOf(large.db);
    const onSmall = await timeOf(small.db);
    console.info(
      `listRuns newest 10: median ${onLarge.toFixed(3)} ms over ${LARGE} runs, ${onSmall.toFixed(3)} ms over ${SMALL}`,
    );
    // Generous: the counters above are the precise check; this catches a gross regression only.
    expect(onLarge).toBeLessThan(Math.max(onSmall * 5, 5));
  });
});

describe(`retention over ${LARGE.toLocaleString('en')} runs`, () => {
  it('finds what to delete through the workflow index, never scanning every run', async () => {
    for (const statement of retentionStatements('smoke', 1000)) {
      const plan = await queryPlan(large.db, statement);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|SCAN runs/);
      expect(plan.filter((detail) => detail.includes(' runs '))).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^SEARCH runs USING COVERING INDEX runs_by_workflow/),
        ]),
      );
    }
  });
});
