import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Client, createClient } from '@libsql/client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UserFacingError } from '#shared/errors.ts';
import { EventStore } from '#shared/events/event-store.ts';
import { HistoryStore } from '#shared/history/history-store.ts';
import { RunQueue } from '#shared/runs/run-queue.ts';
import { WebhookOutbox } from '#shared/webhooks/outbox.ts';
import type { RunResult } from '#shared/workflow/types.ts';
import { stubForTest } from '#test/support/stub-service.ts';
import { tempDir } from '#test/support/temp.ts';
import { startHranaServer } from '../../infra/test-support/hrana-server.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { DEFAULT_BUSY_TIMEOUT_MS, migrate, openDatabase } from './open.ts';
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
  status: 'completed',
  success: true,
  reason: null,
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
      'bug_reports',
      'events',
      'idempotency_keys',
      'run_steps',
      'runs',
      'schedule_ticks',
      'test_results',
      'test_steps',
      'trigger_deliveries',
      'webhook_attempts',
      'webhook_deliveries',
      'workflow_day_durations',
      'workflow_days',
    ]);
    // One row per migration applied.
    const applied = await db.execute('SELECT version FROM aegis_schema ORDER BY version');
    expect(applied.rows.map((row) => row.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('turns WAL on for a file, with a busy timeout for other processes', async () => {
    const db = await openDatabase(fileTarget(join(tempDir(), 'h.db')), { busyTimeoutMs: 1234 });
    onTestFinished(() => db.close());

    expect((await db.execute('PRAGMA journal_mode')).rows[0]?.journal_mode).toBe('wal');
    expect((await db.execute('PRAGMA busy_timeout')).rows[0]?.timeout).toBe(1234);
    expect((await db.execute('PRAGMA synchronous')).rows[0]?.synchronous).toBe(1); // NORMAL
  });

  it('upgrades a database created at version 1 on open and keeps its data', async () => {
    const path = join(tempDir(), 'h.db');
    const v1 = rawClient(path);
    expect(await migrate(v1, 1)).toBe(1);
    expect(await tables(v1)).not.toContain('webhook_deliveries');
    // A run as version 1 wrote it: the run row, then its step.
    await v1.batch(
      [
        {
          sql: `INSERT INTO runs (run_id, workflow_name, status, success, started_at, completed_at, duration_ms)
                VALUES (?, ?, 'completed', 1, ?, ?, ?)`,
          args: [RUN.run_id, RUN.workflow_name, RUN.started_at, RUN.completed_at, RUN.duration_ms],
        },
        {
          sql: `INSERT INTO run_steps (run_id, step_index, step_type, service, success, skipped, duration_ms, error,
                  attempts, attempt_details, data) VALUES (?, 0, 'discover', 'qaagent', 1, 0, 12.5, NULL, 1, '[]', '{}')`,
          args: [RUN.run_id],
        },
      ],
      'write',
    );
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
    const queued = await Promise.all(
      clients.map((db) =>
        new RunQueue(db).enqueue({
          workflow: 'smoke',
          settings: { on_interrupt: 'none' },
          trigger: 'api',
        }),
      ),
    );
    const runs = await new HistoryStore(clients[5] as Client, {
      maxRecordsPerWorkflow: 0,
    }).listRuns({});
    expect(runs.map((run) => run.run_id).sort()).toEqual(
      queued.map((q) => (q.kind === 'queued' ? q.runId : '')).sort(),
    );
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

  it('when another process holds the write lock for longer than the busy timeout', async () => {
    const path = join(tempDir(), 'h.db');
    (await openDatabase(fileTarget(path))).close();
    const other = await rawClient(path).transaction('write'); // holds the lock until rolled back
    try {
      const started = performance.now();
      const error = await rejection(openDatabase(fileTarget(path), { busyTimeoutMs: 300 }));

      expect(error.message).toBe(
        `cannot open the history database at ${path}: another process held the database locked for over 0.3s`,
      );
      expect(performance.now() - started).toBeGreaterThan(250); // it waited rather than failing at once
    } finally {
      await other.rollback();
    }
  });

  it('waits 5 s for a lock unless told otherwise', async () => {
    const db = await open(join(tempDir(), 'h.db'));

    expect((await db.execute('PRAGMA busy_timeout')).rows[0]?.timeout).toBe(
      DEFAULT_BUSY_TIMEOUT_MS,
    );
    expect(DEFAULT_BUSY_TIMEOUT_MS).toBe(5000);
  });

  it.skipIf(!existsSync('/dev/null'))(
    'when the path is a device (/dev/null), at once and without blaming a lock',
    async () => {
      const started = performance.now();
      const error = await openFailure(fileTarget('/dev/null'), '/dev/null');

      expect(error.message).toBe(
        'cannot open the history database at /dev/null: it is a character device, not a regular file, so it cannot be a database file',
      );
      expect(performance.now() - started).toBeLessThan(500);
    },
  );

  it.skipIf(process.platform === 'win32')('when the path is a named pipe (FIFO)', async () => {
    const path = join(tempDir(), 'pipe.db');
    execFileSync('mkfifo', [path]);

    const error = await openFailure(fileTarget(path), path);

    expect(error.message).toBe(
      `cannot open the history database at ${path}: it is a named pipe (FIFO), not a regular file, so it cannot be a database file`,
    );
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
});

describe('openDatabase: a libSQL server (AEGIS_DB_URL) that cannot be used names it and the cause', () => {
  /** A port nothing listens on. */
  async function closedPort(): Promise<number> {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  const remote = (url: string, token?: string) =>
    resolveDatabaseTarget('x', {
      AEGIS_DB_URL: url,
      ...(token === undefined ? {} : { AEGIS_DB_AUTH_TOKEN: token }),
    });

  it('connection refused, without the query of the URL (which may carry a token)', async () => {
    const port = await closedPort();
    const target = remote(`http://127.0.0.1:${port}/db?authToken=secret-token`);

    const error = await openFailure(target, `http://127.0.0.1:${port}/db`);

    expect(error.message).toBe(
      `cannot open the history database at http://127.0.0.1:${port}/db: connection refused`,
    );
  });

  it('a URL with a user name and password, which are never shown', async () => {
    const port = await closedPort();
    const target = remote(`http://someone:secret-password@127.0.0.1:${port}/db`);

    const error = await openFailure(target, `http://127.0.0.1:${port}/db`);

    expect(error.message).toBe(
      `cannot open the history database at http://127.0.0.1:${port}/db: the URL holds a user name or password, which a libSQL client cannot send: put the token in AEGIS_DB_AUTH_TOKEN`,
    );
    expect(error.message).not.toMatch(/secret-password|someone/);
  });

  it('connection refused over WebSocket (ws://)', async () => {
    const port = await closedPort();

    const error = await openFailure(remote(`ws://127.0.0.1:${port}`), `ws://127.0.0.1:${port}`);

    expect(error.message).toMatch(/: connection refused$/);
  });

  it('a host name that does not resolve', async () => {
    const error = await openFailure(
      remote('https://aegis-no-such-host.invalid'),
      'https://aegis-no-such-host.invalid',
    );

    expect(error.message).toMatch(
      /: DNS lookup failed: host "aegis-no-such-host\.invalid" not found$/,
    );
  });

  it('TLS that fails: https:// to a server without TLS', async () => {
    const stub = await stubForTest();
    const url = stub.url.replace('http:', 'https:');

    const error = await openFailure(remote(url), url);

    expect(error.message).toBe(
      `cannot open the history database at ${url}: TLS failed: the server does not speak TLS there (for a server without TLS, use http:// or ws://)`,
    );
  });

  it('a libSQL server that refuses a missing or wrong AEGIS_DB_AUTH_TOKEN', async () => {
    const server = await startHranaServer({ authToken: 'the-right-token' });
    onTestFinished(() => server.close());

    const missing = await openFailure(remote(server.url), server.url);
    const wrong = await openFailure(remote(server.url, 'a-wrong-token'), server.url);
    const db = await openDatabase(remote(server.url, 'the-right-token'));
    db.close();

    expect(missing.message).toBe(
      `cannot open the history database at ${server.url}: the server refused the connection (HTTP 401): AEGIS_DB_AUTH_TOKEN is not set, and this server needs it`,
    );
    expect(wrong.message).toBe(
      `cannot open the history database at ${server.url}: the server refused the connection (HTTP 401): AEGIS_DB_AUTH_TOKEN is wrong or has expired`,
    );
    expect(wrong.message).not.toContain('a-wrong-token');
  });

  it.each([
    [401, 'ws'],
    [403, 'http'],
  ] as const)('an HTTP %i from the server (%s) is a token problem', async (status, scheme) => {
    const stub = await stubForTest();
    const answer = { status, raw: 'no', headers: { 'content-type': 'text/plain' } };
    stub.route('POST /v2/pipeline', answer);
    stub.route('GET /', answer);
    const url = stub.url.replace('http:', `${scheme}:`);

    const error = await openFailure(remote(url, 'some-token'), url);

    expect(error.message).toBe(
      `cannot open the history database at ${url}: the server refused the connection (HTTP ${status}): AEGIS_DB_AUTH_TOKEN is wrong or has expired`,
    );
  });

  it('a server that is not a libSQL server: a web page, or no such path', async () => {
    const page = await stubForTest({
      'POST /v2/pipeline': { raw: '<html>hello</html>', headers: { 'content-type': 'text/html' } },
    });
    const nothing = await stubForTest();

    const html = await openFailure(remote(page.url), page.url);
    const notFound = await openFailure(remote(nothing.url), nothing.url);

    expect(html.message).toBe(
      `cannot open the history database at ${page.url}: it does not answer as a libSQL server: check AEGIS_DB_URL`,
    );
    expect(notFound.message).toBe(
      `cannot open the history database at ${nothing.url}: it does not answer as a libSQL server (HTTP 404): check AEGIS_DB_URL`,
    );
  });

  it('a server error, with its status', async () => {
    const stub = await stubForTest({
      'POST /v2/pipeline': { status: 502, raw: '', headers: { 'content-type': 'text/plain' } },
    });

    const error = await openFailure(remote(stub.url), stub.url);

    expect(error.message).toBe(
      `cannot open the history database at ${stub.url}: the server answered HTTP 502`,
    );
  });
});
