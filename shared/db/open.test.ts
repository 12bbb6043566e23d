import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, createClient } from '@libsql/client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UserFacingError } from '#shared/errors.ts';
import { EventStore } from '#shared/events/event-store.ts';
import { HistoryStore } from '#shared/history/history-store.ts';
import { WebhookOutbox } from '#shared/webhooks/outbox.ts';
import type { RunResult } from '#shared/workflow/types.ts';
import { tempDir } from '#test/support/temp.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { migrate, openDatabase } from './open.ts';
import { type DatabaseTarget, fileUrl, resolveDatabaseTarget } from './target.ts';

function fileTarget(path: string): DatabaseTarget {
  return resolveDatabaseTarget(path, {});
}

/** Opens the file as Aegis does, closed when the test ends. */
async function open(path: string): Promise<Client> {
  const db = await openDatabase(fileTarget(path));
  onTestFinished(() => db.close());
  return db;
}

/** A bare libSQL client on the file, with no migrations applied. */
function rawClient(path: string): Client {
  const db = createClient({ url: fileUrl(path) });
  onTestFinished(() => db.close());
  return db;
}

async function schemaVersion(db: Client): Promise<number> {
  return Number((await db.execute('SELECT max(version) AS v FROM aegis_schema')).rows[0]?.v);
}

async function tables(db: Client): Promise<string[]> {
  const result = await db.execute(
    `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name`,
  );
  return result.rows.map((row) => String(row.name));
}

async function rejection(promise: Promise<Client>): Promise<Error> {
  return promise.then(
    (db) => {
      db.close();
      throw new Error('expected the open to fail');
    },
    (failure: unknown) => failure as Error,
  );
}

/** The error openDatabase rejects with, asserted to be one line that names `where`. */
async function openFailure(target: DatabaseTarget, where: string): Promise<Error> {
  const error = await rejection(openDatabase(target));
  expect(error).toBeInstanceOf(UserFacingError);
  expect(error.message).not.toContain('\n');
  expect(error.message).toContain(`cannot open the history database at ${where}: `);
  return error;
}

const RUN: RunResult = {
  run_id: 'run-from-v1',
  workflow_name: 'smoke',
  success: true,
  started_at: '2026-01-01T00:00:00.000Z',
  completed_at: '2026-01-01T00:00:01.000Z',
  duration_ms: 1000,
  steps: [
    {
      step_type: 'discover',
      service: 'qaagent',
      success: true,
      skipped: false,
      data: { route_count: 2 },
      error: null,
      duration_ms: 12.5,
      attempts: [{ attempt: 1, success: true, error: null, duration_ms: 12.5 }],
    },
  ],
};

describe('openDatabase: schema', () => {
  it('gives a fresh database the latest schema, creating its parent directories', async () => {
    const path = join(tempDir(), 'nested', 'deeper', 'history.db');

    const db = await open(path);

    expect(existsSync(path)).toBe(true);
    expect(await schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(await tables(db)).toEqual([
      'aegis_schema',
      'events',
      'run_steps',
      'runs',
      'webhook_attempts',
      'webhook_deliveries',
    ]);
    // One row per migration applied.
    const applied = await db.execute('SELECT version FROM aegis_schema ORDER BY version');
    expect(applied.rows.map((row) => row.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('turns WAL on for a file, with a busy timeout for other processes', async () => {
    const db = await open(join(tempDir(), 'h.db'));

    expect((await db.execute('PRAGMA journal_mode')).rows[0]?.journal_mode).toBe('wal');
    expect((await db.execute('PRAGMA busy_timeout')).rows[0]?.timeout).toBe(5000);
    expect((await db.execute('PRAGMA synchronous')).rows[0]?.synchronous).toBe(1); // NORMAL
  });

  it('upgrades a database created at version 1 on open and keeps its data', async () => {
    const path = join(tempDir(), 'h.db');
    const v1 = rawClient(path);
    expect(await migrate(v1, 1)).toBe(1);
    expect(await tables(v1)).not.toContain('webhook_deliveries');
    const history = new HistoryStore(v1, { maxRecordsPerWorkflow: 0 });
    await history.startRun({ ...RUN, step_count: 1 });
    await history.completeRun(RUN);
    await new EventStore(v1, { capacity: 10 }).append({
      event_type: 'workflow.completed',
      timestamp: RUN.completed_at,
      workflow_name: 'smoke',
      run_id: RUN.run_id,
      data: { success: true },
    });
    v1.close();

    const db = await open(path);

    expect(await schemaVersion(db)).toBe(SCHEMA_VERSION);
    const runs = await new HistoryStore(db, { maxRecordsPerWorkflow: 0 }).listRuns({});
    expect(runs).toMatchObject([{ run_id: RUN.run_id, status: 'completed', step_count: 1 }]);
    const events = await new EventStore(db, { capacity: 10 }).list({ limit: 10 });
    expect(events).toMatchObject([{ run_id: RUN.run_id, data: { success: true } }]);
    // Migration 2's table is there and takes the outbox's rows.
    const webhook = { url: 'https://hook.test/in', events: ['*'], secret: '' };
    const outbox = new WebhookOutbox(db, [webhook]);
    await db.batch(outbox.enqueueStatements({ ...(events[0] as (typeof events)[0]) }), 'write');
    expect(await outbox.pendingCount(RUN.run_id)).toBe(1);
  });

  it('applies nothing twice: migrating an up-to-date database is a no-op', async () => {
    const path = join(tempDir(), 'h.db');
    const db = await open(path);

    expect(await migrate(db)).toBe(SCHEMA_VERSION);
    expect(await migrate(db, 1)).toBe(SCHEMA_VERSION);
    expect(await schemaVersion(db)).toBe(SCHEMA_VERSION);
  });

  it('refuses a database from a newer Aegis with a clear message, and leaves it alone', async () => {
    const path = join(tempDir(), 'h.db');
    const newer = await openDatabase(fileTarget(path));
    await newer.execute({
      sql: `INSERT INTO aegis_schema (version, applied_at) VALUES (?, 'later')`,
      args: [SCHEMA_VERSION + 1],
    });
    newer.close();

    const error = await openFailure(fileTarget(path), path);

    expect(error.message).toBe(
      `cannot open the history database at ${path}: its schema version ${SCHEMA_VERSION + 1} is newer than this Aegis understands (${SCHEMA_VERSION}); upgrade Aegis`,
    );
    expect(await schemaVersion(rawClient(path))).toBe(SCHEMA_VERSION + 1);
  });

  it("refuses a database that holds another application's tables, and writes nothing to it", async () => {
    const path = join(tempDir(), 'app.db');
    const other = rawClient(path);
    await other.execute('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
    await other.execute('CREATE TABLE orders (id INTEGER PRIMARY KEY)');

    const error = await openFailure(fileTarget(path), path);

    expect(error.message).toContain('it is not an Aegis history database');
    expect(error.message).toContain('orders, users');
    expect(await tables(other)).toEqual(['orders', 'users']);
  });

  it('leaves a database whose migration fails at its previous version, saying why', async () => {
    const path = join(tempDir(), 'h.db');
    const v1 = rawClient(path);
    await migrate(v1, 1);
    // Something already took the name of migration 2's last index, after its table is created.
    await v1.execute('CREATE TABLE deliveries_by_run (x)');

    const error = await openFailure(fileTarget(path), path);

    expect(error.message).toContain('already a table named deliveries_by_run');
    expect(await schemaVersion(v1)).toBe(1);
    expect(await tables(v1)).not.toContain('webhook_deliveries'); // all of migration 2, or none of it
  });

  it('is safe to open many times at once on a fresh file: each migration runs once', async () => {
    const path = join(tempDir(), 'h.db');

    const clients = await Promise.all(Array.from({ length: 6 }, () => open(path)));

    for (const db of clients) expect(await schemaVersion(db)).toBe(SCHEMA_VERSION);
    const applied = await (clients[0] as Client).execute('SELECT count(*) AS n FROM aegis_schema');
    expect(applied.rows[0]?.n).toBe(SCHEMA_VERSION);
    await Promise.all(
      clients.map((db, i) =>
        new HistoryStore(db, { maxRecordsPerWorkflow: 0 }).completeRun({
          ...RUN,
          run_id: `run-${i}`,
        }),
      ),
    );
    const runs = await new HistoryStore(clients[5] as Client, {
      maxRecordsPerWorkflow: 0,
    }).listRuns({});
    expect(runs.map((run) => run.run_id).sort()).toEqual(clients.map((_, i) => `run-${i}`));
  });

  it('opens a file whose name holds URL characters (#, ?, %, space) at that very path', async () => {
    const dir = tempDir();
    const path = join(dir, 'odd #1? 100% h.db');

    await open(path);

    expect(existsSync(path)).toBe(true);
  });

  it('opens the file an AEGIS_DB_URL file: URL names', async () => {
    const path = join(tempDir(), 'sub dir', 'h.db');
    const target = resolveDatabaseTarget('/ignored.db', {
      AEGIS_DB_URL: `file://${path.replaceAll(' ', '%20')}`,
    });

    const db = await openDatabase(target);
    db.close();

    expect(existsSync(path)).toBe(true);
  });
});

describe('openDatabase: a path that cannot be used fails at open, in one line naming it', () => {
  it('when a parent of the path is a regular file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    for (const path of [join(dir, 'file', 'h.db'), join(dir, 'file', 'sub', 'h.db')]) {
      const error = await openFailure(fileTarget(path), path);
      expect(error.message).toBe(
        `cannot open the history database at ${path}: a parent of it is not a directory`,
      );
    }
  });

  it.skipIf(!existsSync('/proc/self'))(
    'when its directory cannot be created (under /proc), rather than hanging',
    async () => {
      const path = `/proc/aegis-test-${process.pid}/sub/h.db`;
      const error = await openFailure(fileTarget(path), path);
      expect(error.message).toContain(
        `cannot create its directory (/proc/aegis-test-${process.pid})`,
      );
    },
  );

  it.skipIf(!existsSync('/proc/self'))(
    'when its directory exists but does not take files (/proc)',
    async () => {
      const error = await openFailure(
        fileTarget('/proc/aegis-history.db'),
        '/proc/aegis-history.db',
      );
      expect(error.message).toContain('cannot create or open the file');
    },
  );

  it('when another process holds the write lock for longer than the 5 s busy timeout', async () => {
    const path = join(tempDir(), 'h.db');
    (await openDatabase(fileTarget(path))).close();
    const other = await rawClient(path).transaction('write'); // holds the lock until rolled back
    try {
      const started = performance.now();
      const error = await openFailure(fileTarget(path), path);

      expect(error.message).toBe(
        `cannot open the history database at ${path}: another process held the database locked for over 5s`,
      );
      expect(performance.now() - started).toBeGreaterThan(4500); // it waited rather than failing at once
    } finally {
      await other.rollback();
    }
  });

  it('when the file is not a database, which is left as it was', async () => {
    const path = join(tempDir(), 'notes.db');
    const text = 'these are notes, not a database\n'.repeat(200);
    writeFileSync(path, text);

    const error = await openFailure(fileTarget(path), path);

    expect(error.message).toBe(
      `cannot open the history database at ${path}: the file is not a libSQL/SQLite database`,
    );
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('when the path is a directory', async () => {
    const path = join(tempDir(), 'history.db');
    mkdirSync(path);

    const error = await openFailure(fileTarget(path), path);

    expect(error.message).toBe(
      `cannot open the history database at ${path}: it is a directory, not a file`,
    );
  });

  it('when AEGIS_DB_URL is a file: URL libSQL rejects', async () => {
    const dir = tempDir();
    const target = resolveDatabaseTarget('/ignored.db', {
      AEGIS_DB_URL: `file:${join(dir, 'h.db')}#fragment`,
    });

    const error = await rejection(openDatabase(target));

    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.message).toMatch(
      /^cannot open the history database: AEGIS_DB_URL is not valid \(/,
    );
    expect(error.message).not.toContain('\n');
  });

  it('when a libSQL server does not answer, naming it without its token', async () => {
    const target = resolveDatabaseTarget('x', {
      AEGIS_DB_URL: 'http://127.0.0.1:9/db?authToken=secret-token',
    });

    const error = await openFailure(target, 'http://127.0.0.1:9/db');

    expect(error.message).not.toContain('secret-token');
  });
});
