import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type Client, type Config, createClient, LibsqlError } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type HranaServer, type HranaServerOptions, startHranaServer } from './hrana-server.ts';
import { startHranaServerProcess } from './hrana-server-process.ts';

/*
 * The test server held to what it stands in for: sqld (libsql-server) as
 * `@libsql/client` sees it over `http://`. Each expectation comes from the
 * Hrana 3 specification (tursodatabase/libsql docs/HRANA_3_SPEC.md, the HTTP
 * variant), from libsql-client-ts's documented behaviour, or, where the two
 * leave it open, from what sqld's source does (its error codes and messages,
 * argument binding, write-lock timeout, stream expiry); those are said so.
 */

/** A server for this test, closed when it ends. */
async function server(options: HranaServerOptions = {}): Promise<HranaServer> {
  const started = await startHranaServer(options);
  onTestFinished(() => started.close());
  return started;
}

/** A client as Aegis opens one for AEGIS_DB_URL, closed when the test ends. */
function client(url: string, config: Omit<Config, 'url'> = {}): Client {
  const db = createClient({ url, ...config });
  onTestFinished(() => db.close());
  return db;
}

/** The error a promise rejects with (a test fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<LibsqlError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(LibsqlError);
  return error as LibsqlError;
}

interface PipelineAnswer {
  status: number;
  text: string;
  json: {
    baton: string | null;
    results: { type: 'ok' | 'error'; response?: Record<string, unknown>; error?: unknown }[];
  };
}

/** One raw `POST /v2/pipeline`, for what the client does not expose (batons, conditions). */
async function pipeline(
  url: string,
  baton: string | null,
  requests: unknown[],
  headers: Record<string, string> = {},
): Promise<PipelineAnswer> {
  const response = await fetch(`${url}/v2/pipeline`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ baton, requests }),
  });
  const text = await response.text();
  let json = { baton: null, results: [] } as PipelineAnswer['json'];
  try {
    json = JSON.parse(text);
  } catch {
    // a protocol error: plain text
  }
  return { status: response.status, text, json };
}

const execute = (sql: string, args: unknown[] = []) => ({
  type: 'execute',
  stmt: { sql, args: args.map((value) => ({ type: 'integer', value: String(value) })) },
});

/** Waits (bounded) until `check` holds: for "the server has received that request". */
async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('the Hrana test server through @libsql/client: statements', () => {
  let shared: HranaServer;
  let db: Client;

  beforeAll(async () => {
    shared = await startHranaServer();
    db = createClient({ url: shared.url, intMode: 'bigint' });
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, qty INTEGER)');
  });

  afterAll(async () => {
    db?.close();
    await shared?.close();
  });

  it('binds positional (`?`, `?N`) and named (`:a`, `@a`, `$a`, with or without the prefix) arguments', async () => {
    // Act
    const positional = await db.execute({ sql: 'SELECT ?, ?, ?2', args: ['a', 'b'] });
    const named = await db.execute({
      sql: 'SELECT :a, @b, $c, :a',
      args: { a: 'x', '@b': 'y', c: 'z' },
    });
    // Assess
    expect(positional.rows[0]).toEqual(expect.objectContaining({ length: 3 }));
    expect(Array.from(positional.rows[0] ?? [])).toEqual(['a', 'b', 'b']);
    expect(Array.from(named.rows[0] ?? [])).toEqual(['x', 'y', 'z', 'x']);
  });

  it('refuses a missing or an extra argument with ARGS_INVALID, as sqld does (SQLite alone would bind NULL)', async () => {
    // Act
    const missing = await failure(db.execute({ sql: 'SELECT ?, ?', args: [1] }));
    const extra = await failure(db.execute({ sql: 'SELECT ?', args: [1, 2] }));
    const missingName = await failure(db.execute({ sql: 'SELECT :a', args: { b: 1 } }));
    // Assess
    expect(missing.code).toBe('ARGS_INVALID');
    expect(missing.message).toBe(
      'ARGS_INVALID: Arguments do not match SQL parameters: value for parameter 2 not found',
    );
    expect(extra.code).toBe('ARGS_INVALID');
    expect(missingName.message).toContain('value for parameter :a not found');
  });

  it('round-trips integers beyond 2^53, reals, text, null and blobs with their SQLite types', async () => {
    // Prepare
    const big = 9_007_199_254_740_993n;
    const blob = new Uint8Array([0, 1, 127, 128, 255]);
    // Act
    const result = await db.execute({
      sql: 'SELECT ?, typeof(?1), ?, typeof(?2), ?, ?, typeof(?4), ?, typeof(?5), ?, typeof(?6)',
      args: [big, 1.5, 'héllo ✓', null, blob, 3],
    });
    // Assess
    const row = Array.from(result.rows[0] ?? []);
    expect(row.slice(0, 4)).toEqual([big, 'integer', 1.5, 'real']);
    expect(row.slice(4, 7)).toEqual(['héllo ✓', null, 'null']);
    expect(new Uint8Array(row[7] as ArrayBuffer)).toEqual(blob);
    expect(row[8]).toBe('blob');
    // A JS number is sent as a float and bound as REAL, as sqld binds it.
    expect(row.slice(9)).toEqual([3, 'real']);
  });

  it('counts rowsAffected and lastInsertRowid for INSERT, UPDATE and DELETE only', async () => {
    // Act
    const first = await db.execute({
      sql: 'INSERT INTO items (name, qty) VALUES (?, ?)',
      args: ['a', 1],
    });
    const second = await db.execute({
      sql: 'INSERT INTO items (name, qty) VALUES (?, ?)',
      args: ['b', 2],
    });
    const update = await db.execute('UPDATE items SET qty = qty + 1');
    const select = await db.execute('SELECT * FROM items');
    const ddl = await db.execute('CREATE TABLE other (x)');
    const deleted = await db.execute({ sql: 'DELETE FROM items WHERE name = ?', args: ['b'] });
    // Assess
    expect([first.rowsAffected, first.lastInsertRowid]).toEqual([1, 1n]);
    expect([second.rowsAffected, second.lastInsertRowid]).toEqual([1, 2n]);
    expect([update.rowsAffected, update.lastInsertRowid]).toEqual([2, undefined]);
    expect([select.rowsAffected, select.lastInsertRowid]).toEqual([0, undefined]);
    expect([ddl.rowsAffected, ddl.lastInsertRowid]).toEqual([0, undefined]);
    expect(deleted.rowsAffected).toBe(1);
    expect(select.columns).toEqual(['id', 'name', 'qty']);
    expect(select.columnTypes).toEqual(['INTEGER', 'TEXT', 'INTEGER']);
  });

  it('answers UPDATE … RETURNING with the changed rows, and counts them', async () => {
    // Prepare
    await db.execute("INSERT INTO items (name, qty) VALUES ('r1', 10), ('r2', 20), ('r3', 30)");
    // Act
    const result = await db.execute({
      sql: "UPDATE items SET qty = qty * 2 WHERE name IN ('r1', 'r3') RETURNING name, qty",
      args: [],
    });
    // Assess
    expect(result.rows.map((row) => [row.name, row.qty]).sort()).toEqual([
      ['r1', 20n],
      ['r3', 60n],
    ]);
    expect(result.rowsAffected).toBe(2);
  });

  it('reports SQL errors as LibsqlError with sqld code and message', async () => {
    // Prepare
    await db.execute("INSERT INTO items (name) VALUES ('unique')");
    // Act
    const constraint = await failure(db.execute("INSERT INTO items (name) VALUES ('unique')"));
    const syntax = await failure(db.execute('SELEC 1'));
    const many = await failure(db.execute('SELECT 1; SELECT 2'));
    // Assess
    expect(constraint.code).toBe('SQLITE_CONSTRAINT');
    expect(constraint.message).toBe(
      'SQLITE_CONSTRAINT: SQLite error: UNIQUE constraint failed: items.name',
    );
    expect(syntax.code).toBe('SQL_PARSE_ERROR');
    expect(many.code).toBe('SQL_MANY_STATEMENTS');
  });

  it('runs a script with executeMultiple, stopping at its first failing statement', async () => {
    // Act
    await db.executeMultiple(`
      CREATE TABLE script (x TEXT); -- a comment; with a semicolon
      INSERT INTO script VALUES ('one;two');
      INSERT INTO script VALUES ('three');`);
    const error = await failure(
      db.executeMultiple(
        "INSERT INTO script VALUES ('four'); INSERT INTO nowhere VALUES (1); INSERT INTO script VALUES ('five')",
      ),
    );
    // Assess
    expect(error.code).toBe('SQL_INPUT_ERROR');
    const rows = await db.execute('SELECT x FROM script ORDER BY rowid');
    expect(rows.rows.map((row) => row.x)).toEqual(['one;two', 'three', 'four']);
  });
});

describe('the Hrana test server through @libsql/client: batches and transactions', () => {
  it('commits a write batch as a whole, and a failing statement rolls all of it back', async () => {
    // Prepare
    const { url, query } = await server();
    const db = client(url);
    await db.execute('CREATE TABLE t (name TEXT UNIQUE)');
    // Act
    const ok = await db.batch(
      ["INSERT INTO t VALUES ('a')", { sql: 'INSERT INTO t VALUES (?)', args: ['b'] }],
      'write',
    );
    const error = await failure(
      db.batch(
        ["INSERT INTO t VALUES ('c')", "INSERT INTO t VALUES ('a')", "INSERT INTO t VALUES ('d')"],
        'write',
      ),
    );
    // Assess
    expect(ok.map((result) => result.rowsAffected)).toEqual([1, 1]);
    expect(error.code).toBe('SQLITE_CONSTRAINT');
    expect((error as LibsqlError & { statementIndex?: number }).statementIndex).toBe(1);
    expect(query('SELECT name FROM t ORDER BY name')).toEqual([{ name: 'a' }, { name: 'b' }]);
  });

  it('runs batch steps on their conditions (ok, error, not, and, or), as sqld evaluates them', async () => {
    // Prepare
    const { url } = await server();
    // Act
    const answer = await pipeline(url, null, [
      {
        type: 'batch',
        batch: {
          steps: [
            { stmt: { sql: 'SELECT 1' } }, // 0: ok
            { stmt: { sql: 'SELECT * FROM nowhere' } }, // 1: fails
            { stmt: { sql: 'SELECT 2' }, condition: { type: 'ok', step: 0 } }, // runs
            { stmt: { sql: 'SELECT 3' }, condition: { type: 'ok', step: 1 } }, // skipped
            { stmt: { sql: 'SELECT 4' }, condition: { type: 'error', step: 1 } }, // runs
            {
              stmt: { sql: 'SELECT 5' },
              condition: {
                type: 'and',
                conds: [
                  { type: 'ok', step: 0 },
                  { type: 'not', cond: { type: 'ok', step: 1 } },
                ],
              },
            }, // runs
            {
              stmt: { sql: 'SELECT 6' },
              condition: {
                type: 'or',
                conds: [
                  { type: 'ok', step: 3 },
                  { type: 'ok', step: 1 },
                ],
              },
            }, // skipped
          ],
        },
      },
      { type: 'close' },
    ]);
    // Assess
    expect(answer.status).toBe(200);
    const result = answer.json.results[0]?.response?.result as {
      step_results: unknown[];
      step_errors: unknown[];
    };
    expect(result.step_results.map((r) => r !== null)).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
      false,
    ]);
    // A skipped step has neither a result nor an error (the spec).
    expect(result.step_errors.map((e) => e !== null)).toEqual([
      false,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(answer.json.baton).toBeNull();
  });

  it('keeps an interactive transaction to itself until commit; rollback leaves nothing', async () => {
    // Prepare
    const { url } = await server();
    const a = client(url);
    const b = client(url);
    await a.execute('CREATE TABLE t (x INTEGER)');
    // Act
    const tx = await a.transaction('write');
    await tx.execute('INSERT INTO t VALUES (1)');
    const insideTx = await tx.execute('SELECT count(*) AS n FROM t');
    const outsideBeforeCommit = await b.execute('SELECT count(*) AS n FROM t');
    await tx.commit();
    const afterCommit = await b.execute('SELECT count(*) AS n FROM t');
    const rolledBack = await a.transaction('write');
    await rolledBack.execute('INSERT INTO t VALUES (2)');
    await rolledBack.rollback();
    const afterRollback = await b.execute('SELECT x FROM t');
    // Assess
    expect(insideTx.rows[0]?.n).toBe(1);
    expect(outsideBeforeCommit.rows[0]?.n).toBe(0);
    expect(afterCommit.rows[0]?.n).toBe(1);
    expect(afterRollback.rows.map((row) => row.x)).toEqual([1]);
  });

  it('serializes writers: a write waits while another client holds the write lock, then goes on', async () => {
    // Prepare
    const srv = await server();
    const a = client(srv.url);
    const b = client(srv.url);
    await a.execute('CREATE TABLE log (who TEXT)');
    const tx = await a.transaction('write');
    await tx.execute("INSERT INTO log VALUES ('a1')");
    // Act: b's write batch reaches the server while a's transaction holds the lock
    const before = srv.requests;
    let bDone = false;
    const bWrite = b.batch(["INSERT INTO log VALUES ('b')"], 'write').then((result) => {
      bDone = true;
      return result;
    });
    await until(() => srv.requests > before);
    await tx.execute("INSERT INTO log VALUES ('a2')");
    const bWaited = !bDone;
    await tx.commit();
    await bWrite;
    // Assess
    expect(bWaited).toBe(true);
    expect(srv.query('SELECT who FROM log ORDER BY rowid')).toEqual([
      { who: 'a1' },
      { who: 'a2' },
      { who: 'b' },
    ]);
  });

  it('lets readers read the last committed state while another client holds the write lock', async () => {
    // Prepare
    const { url } = await server();
    const a = client(url);
    const b = client(url);
    await a.execute('CREATE TABLE t (x INTEGER)');
    await a.execute('INSERT INTO t VALUES (1)');
    const tx = await a.transaction('write');
    await tx.execute('UPDATE t SET x = 2');
    // Act
    const read = await b.execute('SELECT x FROM t');
    await tx.commit();
    // Assess
    expect(read.rows.map((row) => row.x)).toEqual([1]);
  });

  it('takes the lock over from a transaction held past its timeout (sqld: 5 s); its next statement fails with TRANSACTION_TIMEOUT', async () => {
    // Prepare
    const srv = await server({ txnTimeoutMs: 400 });
    const a = client(srv.url);
    const b = client(srv.url);
    await a.execute('CREATE TABLE t (who TEXT)');
    const tx = await a.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('a')");
    // Act: b waits for the holder's timeout, then rolls it back and writes
    const started = Date.now();
    await b.batch(["INSERT INTO t VALUES ('b')"], 'write');
    const waitedMs = Date.now() - started;
    const error = await failure(tx.execute("INSERT INTO t VALUES ('a2')"));
    tx.close();
    // Assess
    expect(waitedMs).toBeGreaterThanOrEqual(250); // most of the 400 ms: it waited for the timeout
    expect(error.code).toBe('TRANSACTION_TIMEOUT');
    expect(srv.query('SELECT who FROM t')).toEqual([{ who: 'b' }]);
  });

  it('fails the next statement of a transaction older than its timeout even when nobody waited, as sqld does', async () => {
    // Prepare
    const srv = await server({ txnTimeoutMs: 100 });
    const a = client(srv.url);
    await a.execute('CREATE TABLE t (x INTEGER)');
    const tx = await a.transaction('write');
    await tx.execute('INSERT INTO t VALUES (1)');
    await sleep(150);
    // Act
    const error = await failure(tx.execute('INSERT INTO t VALUES (2)'));
    tx.close();
    // Assess
    expect(error.code).toBe('TRANSACTION_TIMEOUT');
    expect(srv.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('expires an idle stream (sqld: 10 s): its transaction is rolled back, its lock freed, its baton STREAM_EXPIRED', async () => {
    // Prepare
    const srv = await server({ streamIdleMs: 100 });
    const a = client(srv.url);
    const b = client(srv.url);
    await a.execute('CREATE TABLE t (who TEXT)');
    const tx = await a.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('abandoned')");
    await sleep(200);
    // Act
    const started = Date.now();
    await b.execute("INSERT INTO t VALUES ('b')");
    const waitedMs = Date.now() - started;
    const error = await failure(tx.execute('SELECT 1'));
    // Assess
    expect(waitedMs).toBeLessThan(1000);
    expect(error.code).toBe('STREAM_EXPIRED');
    expect(srv.query('SELECT who FROM t')).toEqual([{ who: 'b' }]);
  });
});

describe('the Hrana test server: streams, batons and auth over HTTP', () => {
  it('carries a stream (its transaction and stored SQL) from pipeline to pipeline through its baton', async () => {
    // Prepare
    const { url } = await server();
    await pipeline(url, null, [execute('CREATE TABLE t (x INTEGER)'), { type: 'close' }]);
    // Act
    const first = await pipeline(url, null, [
      execute('BEGIN IMMEDIATE'),
      execute('INSERT INTO t VALUES (?)', [7]),
      { type: 'store_sql', sql_id: 1, sql: 'SELECT count(*) FROM t' },
    ]);
    const elsewhere = await pipeline(url, null, [
      execute('SELECT count(*) FROM t'),
      { type: 'close' },
    ]);
    const second = await pipeline(url, first.json.baton, [
      { type: 'execute', stmt: { sql_id: 1 } },
      execute('COMMIT'),
    ]);
    const reused = await pipeline(url, first.json.baton, [execute('SELECT 1')]);
    const forged = await pipeline(url, `${first.json.baton}x`, [execute('SELECT 1')]);
    const closing = await pipeline(url, second.json.baton, [{ type: 'close' }]);
    const afterClose = await pipeline(url, second.json.baton, [execute('SELECT 1')]);
    // Assess
    expect(first.status).toBe(200);
    expect(first.json.results.map((r) => r.type)).toEqual(['ok', 'ok', 'ok']);
    expect(first.json.baton).toEqual(expect.any(String));
    const count = (answer: PipelineAnswer) =>
      (answer.json.results[0]?.response?.result as { rows: unknown[][] } | undefined)?.rows[0];
    expect(count(elsewhere)).toEqual([{ type: 'integer', value: '0' }]);
    expect(count(second)).toEqual([{ type: 'integer', value: '1' }]);
    expect(second.json.baton).not.toBe(first.json.baton);
    expect([reused.status, reused.text]).toEqual([
      400,
      'Received a baton that has already been used',
    ]);
    expect([forged.status, forged.text]).toEqual([400, 'Received an invalid baton']);
    expect(closing.json.baton).toBeNull();
    expect([afterClose.status, afterClose.text]).toEqual([400, 'Received an invalid baton']);
  });

  it('answers every request of a pipeline in order, an error in one not stopping the others', async () => {
    // Prepare
    const { url } = await server();
    // Act
    const answer = await pipeline(url, null, [
      execute('SELECT 1'),
      execute('SELECT * FROM nowhere'),
      execute('SELECT 2'),
      { type: 'close' },
    ]);
    // Assess
    expect(answer.json.results.map((r) => r.type)).toEqual(['ok', 'error', 'ok', 'ok']);
    expect(answer.json.results[1]?.error).toEqual({
      message: expect.stringContaining('no such table: nowhere'),
      code: 'SQL_INPUT_ERROR',
    });
  });

  it('with a token, refuses a missing or wrong one with 401, which the client reports', async () => {
    // Prepare
    const { url } = await server({ authToken: 'the-token' });
    // Act
    const missing = await pipeline(url, null, [execute('SELECT 1')]);
    const wrong = await pipeline(url, null, [execute('SELECT 1')], {
      authorization: 'Bearer not-the-token',
    });
    const clientError = await failure(
      client(url, { authToken: 'not-the-token' }).execute('SELECT 1'),
    );
    const noTokenError = await failure(client(url).execute('SELECT 1'));
    const ok = await client(url, { authToken: 'the-token' }).execute('SELECT 1 AS one');
    // Assess
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text)).toEqual({
      error: 'Unauthorized: `The `Authorization` HTTP header is required but was not specified`',
    });
    expect([wrong.status, JSON.parse(wrong.text)]).toEqual([
      401,
      { error: 'Unauthorized: `The JWT is invalid`' },
    ]);
    for (const error of [clientError, noTokenError]) {
      expect(error.code).toBe('SERVER_ERROR');
      expect(error.message).toBe('SERVER_ERROR: Server returned HTTP status 401');
      expect((error.cause as { status?: number }).status).toBe(401);
    }
    expect(ok.rows[0]?.one).toBe(1);
  });

  it('serves the v3 JSON endpoint too, where get_autocommit and is_autocommit exist', async () => {
    // Prepare
    const { url } = await server();
    // Act
    const v2 = await pipeline(url, null, [{ type: 'get_autocommit' }]);
    const v3 = await fetch(`${url}/v3/pipeline`, {
      method: 'POST',
      body: JSON.stringify({
        baton: null,
        requests: [
          { type: 'get_autocommit' },
          execute('BEGIN'),
          { type: 'get_autocommit' },
          { type: 'close' },
        ],
      }),
    }).then((response) => response.json() as Promise<PipelineAnswer['json']>);
    // Assess
    expect(v2.status).toBe(400);
    expect(v3.results.map((r) => r.response?.is_autocommit)).toEqual([
      true,
      undefined,
      false,
      undefined,
    ]);
  });
});

describe('startHranaServerProcess: one server for several processes', () => {
  it('serializes read-modify-write transactions from two processes: no increment is lost', async () => {
    // Prepare
    const srv = await startHranaServerProcess();
    onTestFinished(() => srv.close());
    const setup = createClient({ url: srv.url });
    onTestFinished(() => setup.close());
    await setup.execute('CREATE TABLE counter (n INTEGER NOT NULL)');
    await setup.execute('INSERT INTO counter VALUES (0)');
    const increments = 15;
    const script = `
      import { createClient } from '@libsql/client';
      const db = createClient({ url: process.argv[1] });
      for (let i = 0; i < ${increments}; i++) {
        const tx = await db.transaction('write');
        const n = (await tx.execute('SELECT n FROM counter')).rows[0].n;
        await tx.execute({ sql: 'UPDATE counter SET n = ?', args: [n + 1] });
        await tx.commit();
      }
      db.close();`;
    const run = () =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, srv.url], {
        cwd: join(import.meta.dirname, '..', '..'),
        timeout: 30_000,
      });
    // Act
    await Promise.all([run(), run()]);
    // Assess
    expect(srv.query('SELECT n FROM counter')).toEqual([{ n: 2 * increments }]);
  });
});
