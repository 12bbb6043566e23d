import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'libsql';
import { type SqlStatement, splitStatements } from './hrana-sql.ts';

/**
 * A libSQL server for tests: Hrana over HTTP (`POST /v2/pipeline` and
 * `/v3/pipeline`, JSON), which is what `@libsql/client` speaks to `sqld` and
 * Turso for `http://`, `https://` and `libsql://` URLs, in front of a real
 * libSQL database file (the native `libsql` package). No npm package runs
 * `sqld` itself, so this one copies what sqld does for everything Aegis
 * sends (infra/test-support/hrana-server.test.ts holds it to that):
 *
 * - each stream is its own connection to the file (WAL), so readers see only
 *   committed data and never wait for a writer;
 * - one write transaction at a time: a statement that needs the write lock
 *   waits while another stream holds it, up to that holder's transaction
 *   timeout (sqld's TXN_TIMEOUT, 5 s), and then takes the lock over, rolling
 *   the holder back; the holder's next statements fail with
 *   TRANSACTION_TIMEOUT, as they do in sqld once its transaction is older
 *   than the timeout whether or not anyone waited;
 * - a stream left idle for 10 s expires and its transaction is rolled back;
 * - errors carry sqld's messages and codes (`SQLITE_CONSTRAINT`,
 *   `SQL_PARSE_ERROR`, `ARGS_INVALID`, …), bad batons and protocol errors
 *   answer 400, a missing or wrong token 401 with sqld's JSON body.
 *
 * Not served: the WebSocket variant, Protobuf, cursors, `describe`.
 */
export interface HranaServer {
  /** `http://127.0.0.1:<port>`: what AEGIS_DB_URL is set to. */
  url: string;
  /** The database file. */
  path: string;
  /** The pipeline requests received, for assertions. */
  readonly requests: number;
  /** Runs SQL on the database directly (to look at what was committed). */
  query(sql: string): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface HranaServerOptions {
  /** When set, every pipeline needs `Authorization: Bearer <token>` (what AEGIS_DB_AUTH_TOKEN sends). */
  authToken?: string;
  /** How long a write transaction may hold the lock (sqld's TXN_TIMEOUT: 5 s). */
  txnTimeoutMs?: number;
  /** How long a stream lives without a request (sqld: 10 s). */
  streamIdleMs?: number;
  /** The TCP port on 127.0.0.1 (default: an ephemeral one). */
  port?: number;
  /** The database file (default: a new one in a temporary directory, removed on close). */
  path?: string;
}

type HranaValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

interface HranaStmt {
  sql?: string | null;
  sql_id?: number | null;
  args?: HranaValue[];
  named_args?: { name: string; value: HranaValue }[];
  want_rows?: boolean;
}

type HranaCond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: HranaCond }
  | { type: 'and' | 'or'; conds: HranaCond[] }
  | { type: 'is_autocommit' };

interface HranaRequest {
  type: string;
  stmt?: HranaStmt;
  batch?: { steps: { stmt: HranaStmt; condition?: HranaCond | null }[] };
  sql?: string | null;
  sql_id?: number | null;
}

interface StmtResult {
  cols: { name: string; decltype: string | null }[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

interface ErrorBody {
  message: string;
  code: string;
}

/** A failed request inside a pipeline: answered in its result, the stream stays usable (sqld's StmtError). */
class StatementError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
  toJSON(): ErrorBody {
    return { message: this.message, code: this.code };
  }
}

/** A failure that ends the whole HTTP request (and the stream), as sqld answers it. */
class HttpFailure extends Error {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  constructor(status: number, body: string | object) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.status = status;
    this.body = this.message;
    this.contentType = typeof body === 'string' ? 'text/plain' : 'application/json';
  }
}

/** sqld's ProtocolError: a request a correct client never sends. */
const protocolError = (message: string) => new HttpFailure(400, message);

interface Stream {
  id: string;
  db: Database.Database;
  sqls: Map<number, string>;
  /** The sequence number the next baton must carry. */
  seq: number;
  state: 'idle' | 'busy' | 'closed' | 'expired';
  /** Its write transaction was rolled back by a writer that waited past its timeout. */
  stolen: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** The stream holding the write lock, and when its transaction times out. */
interface WriteLock {
  stream: Stream;
  expiresAt: number;
}

interface Program {
  stmt: HranaStmt;
  statement: SqlStatement;
  condition?: HranaCond | null;
}

const DEFAULT_TXN_TIMEOUT_MS = 5000;
const DEFAULT_STREAM_IDLE_MS = 10_000;
const MAX_STORED_SQL = 50;
const MAX_STORED_SQL_BYTES = 5000;

export async function startHranaServer(options: HranaServerOptions = {}): Promise<HranaServer> {
  const ownDir = options.path ? undefined : mkdtempSync(join(tmpdir(), 'aegis-hrana-'));
  const path = options.path ?? join(ownDir as string, 'sqld.db');
  const txnTimeoutMs = options.txnTimeoutMs ?? DEFAULT_TXN_TIMEOUT_MS;
  const streamIdleMs = options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS;
  // `timeout: 0`: a locked database answers SQLITE_BUSY at once and the wait happens here,
  // asynchronously; SQLite's own busy wait would block the one thread the lock holder needs.
  const connect = () => new Database(path, { timeout: 0 });
  const admin = connect();
  admin.exec('PRAGMA journal_mode = WAL');
  /** Asks SQLite whether any connection holds the write lock. */
  const probe = connect();
  /** Checks syntax before anything runs, as sqld's own parser does. */
  const parser = new Database(':memory:');
  /** Open and expired streams by id (a closed one is forgotten: its baton is then invalid). */
  const streams = new Map<string, Stream>();
  /** Signs batons, so that a client cannot forge or guess one (as sqld's HMAC does). */
  const batonKey = randomBytes(32);
  let lock: WriteLock | null = null;
  let lockWaiters: (() => void)[] = [];
  let requests = 0;

  function releaseLock(): void {
    lock = null;
    const waiting = lockWaiters;
    lockWaiters = [];
    for (const wake of waiting) wake();
  }

  function lockReleased(withinMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, withinMs).unref();
      lockWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  function someoneHoldsWriteLock(): boolean {
    try {
      probe.exec('BEGIN IMMEDIATE');
      probe.exec('ROLLBACK');
      return false;
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_BUSY') return true;
      throw error;
    }
  }

  /** After each statement of `stream`: did it take the write lock, or give it back? */
  function trackLock(stream: Stream): void {
    if (lock?.stream === stream) {
      if (!stream.db.inTransaction) releaseLock();
      return;
    }
    if (lock === null && stream.db.inTransaction && someoneHoldsWriteLock())
      lock = { stream, expiresAt: Date.now() + txnTimeoutMs };
  }

  function rollback(stream: Stream): void {
    if (stream.db.inTransaction) stream.db.exec('ROLLBACK');
    if (lock?.stream === stream) releaseLock();
  }

  /** sqld's check before each step: a transaction past its timeout, or taken over, is rolled back. */
  function transactionTimedOut(stream: Stream): boolean {
    const expired = lock?.stream === stream && Date.now() > lock.expiresAt;
    if (!expired && !stream.stolen) return false;
    stream.stolen = false;
    rollback(stream);
    return true;
  }

  /**
   * Runs one statement; while another stream holds the write lock, waits for
   * it (sqld's busy handler), and once the holder is past its timeout takes
   * the lock over. SQLITE_BUSY_SNAPSHOT (a read transaction that can no
   * longer write) is no wait in sqld either: it is answered at once.
   */
  async function whenUnlocked<T>(stream: Stream, action: () => T): Promise<T> {
    const giveUpAt = Date.now() + 3 * txnTimeoutMs;
    for (;;) {
      try {
        return action();
      } catch (error) {
        if (sqliteCode(error) !== 'SQLITE_BUSY') throw error;
        if (Date.now() > giveUpAt)
          throw new StatementError(`SQLite error: ${(error as Error).message}`, 'SQLITE_BUSY');
      } finally {
        trackLock(stream);
      }
      const holder = lock;
      if (holder === null || holder.stream === stream) {
        await sleep(2); // held by something untracked (a checkpoint): try again shortly
      } else if (Date.now() >= holder.expiresAt) {
        holder.stream.stolen = true;
        rollback(holder.stream);
      } else {
        await lockReleased(holder.expiresAt - Date.now());
      }
    }
  }

  function resolveSql(stream: Stream, sql?: string | null, sqlId?: number | null): string {
    const hasSql = sql !== undefined && sql !== null;
    const hasId = sqlId !== undefined && sqlId !== null;
    if (hasSql && hasId) throw protocolError('Either `sql` or `sql_id` are required, but not both');
    if (hasSql) return sql;
    if (!hasId) throw protocolError('Either `sql` or `sql_id` are required');
    const stored = stream.sqls.get(sqlId);
    if (stored === undefined) throw protocolError(`SQL text ${sqlId} not found`);
    return stored;
  }

  /** What sqld checks before executing: one statement, one kind of arguments, valid syntax. */
  function prepareProgram(stream: Stream, stmt: HranaStmt): SqlStatement {
    const sql = resolveSql(stream, stmt.sql, stmt.sql_id);
    const statements = splitStatements(sql);
    const [statement] = statements;
    if (statement === undefined)
      throw new StatementError('SQL string does not contain any statement', 'SQL_NO_STATEMENT');
    if (statements.length > 1)
      throw new StatementError(
        'SQL string contains more than one statement',
        'SQL_MANY_STATEMENTS',
      );
    if ((stmt.args?.length ?? 0) > 0 && (stmt.named_args?.length ?? 0) > 0)
      throw new StatementError(
        'Specifying both positional and named arguments is not supported',
        'ARGS_BOTH_POSITIONAL_AND_NAMED',
      );
    for (const value of [...(stmt.args ?? []), ...(stmt.named_args ?? []).map((a) => a.value)])
      fromHrana(value);
    checkSyntax(statement.text);
    return statement;
  }

  function checkSyntax(sql: string): void {
    try {
      parser.prepare(sql);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/syntax error|incomplete input|unrecognized token/.test(message))
        throw new StatementError(`SQL string could not be parsed: ${message}`, 'SQL_PARSE_ERROR');
    }
  }

  /**
   * The statement, ready to run (and to run again after SQLITE_BUSY: the
   * same prepared statement, since one that failed busy stays in progress
   * until it is stepped again, and a COMMIT refuses to go past it).
   */
  function runner(stream: Stream, { stmt, statement }: Program): () => StmtResult {
    const values = bindArguments(statement, stmt);
    let prepared: Database.Statement | undefined;
    return () => {
      try {
        prepared ??= stream.db.prepare(statement.text).safeIntegers(true);
      } catch (error) {
        throw sqliteError(error, 'prepare');
      }
      let rows: unknown[][] = [];
      try {
        if (prepared.reader) rows = prepared.raw(true).all(values) as unknown[][];
        else prepared.run(values);
      } catch (error) {
        throw sqliteError(error, 'step');
      }
      const scalar = (sql: string) => (stream.db.prepare(sql).raw(true).get() as unknown[])[0];
      return {
        cols: prepared.reader
          ? prepared.columns().map((c) => ({ name: c.name, decltype: c.type ?? null }))
          : [],
        rows: stmt.want_rows === false ? [] : rows.map((row) => row.map(toHrana)),
        // sqld reports these for INSERT/UPDATE/DELETE only; SQLite's counters are stale after anything else.
        affected_row_count: statement.changesRows ? Number(scalar('SELECT changes()')) : 0,
        last_insert_rowid: statement.inserts ? String(scalar('SELECT last_insert_rowid()')) : null,
      };
    };
  }

  /**
   * Runs a program as sqld does: each step, unless its condition is false;
   * the outcome of each (ok / failed or skipped) feeds later conditions.
   */
  async function runProgram(
    stream: Stream,
    program: Program[],
  ): Promise<{ results: (StmtResult | null)[]; errors: (ErrorBody | null)[] }> {
    const results: (StmtResult | null)[] = [];
    const errors: (ErrorBody | null)[] = [];
    const succeeded: boolean[] = [];
    let timedOut = false;
    for (const step of program) {
      timedOut ||= transactionTimedOut(stream);
      if (timedOut) {
        results.push(null);
        errors.push({ message: 'Transaction timed out', code: 'TRANSACTION_TIMEOUT' });
        succeeded.push(false);
        continue;
      }
      if (step.condition && !holds(step.condition, succeeded, stream)) {
        results.push(null);
        errors.push(null);
        succeeded.push(false);
        continue;
      }
      try {
        results.push(await whenUnlocked(stream, runner(stream, step)));
        errors.push(null);
        succeeded.push(true);
      } catch (error) {
        if (!(error instanceof StatementError)) throw error;
        results.push(null);
        errors.push(error.toJSON());
        succeeded.push(false);
      }
    }
    return { results, errors };
  }

  function checkCondition(cond: HranaCond, step: number, version: number): void {
    switch (cond.type) {
      case 'ok':
      case 'error':
        if (!Number.isInteger(cond.step) || cond.step < 0 || cond.step >= step)
          throw protocolError('Invalid reference to step in a batch condition');
        return;
      case 'not':
        checkCondition(cond.cond, step, version);
        return;
      case 'and':
      case 'or':
        for (const inner of cond.conds) checkCondition(inner, step, version);
        return;
      case 'is_autocommit':
        if (version < 3)
          throw protocolError(
            'BatchCond of type `is_autocommit` is only supported in protocol version hrana3 and higher',
          );
        return;
      default:
        throw protocolError('BatchCond type not recognized');
    }
  }

  async function handle(stream: Stream, request: HranaRequest, version: number): Promise<unknown> {
    const open = () => {
      if (stream.state === 'closed') throw protocolError('Stream for this baton was closed');
    };
    switch (request.type) {
      case 'execute': {
        open();
        const stmt = request.stmt ?? {};
        const { results, errors } = await runProgram(stream, [
          { stmt, statement: prepareProgram(stream, stmt) },
        ]);
        const error = errors[0];
        if (error) throw new StatementError(error.message, error.code);
        return { type: 'execute', result: results[0] };
      }
      case 'batch': {
        open();
        const steps = request.batch?.steps ?? [];
        const program = steps.map(({ stmt, condition }, index) => {
          if (condition) checkCondition(condition, index, version);
          return { stmt, condition, statement: prepareProgram(stream, stmt) };
        });
        const { results, errors } = await runProgram(stream, program);
        return { type: 'batch', result: { step_results: results, step_errors: errors } };
      }
      case 'sequence': {
        open();
        const sql = resolveSql(stream, request.sql, request.sql_id);
        const program = splitStatements(sql).map((statement, index) => {
          checkSyntax(statement.text);
          const condition: HranaCond | null = index === 0 ? null : { type: 'ok', step: index - 1 };
          return { stmt: { want_rows: false }, statement, condition };
        });
        const { errors } = await runProgram(stream, program);
        const error = errors.find((e) => e !== null);
        if (error) throw new StatementError(error.message, error.code);
        return { type: 'sequence' };
      }
      case 'store_sql': {
        const id = request.sql_id ?? Number.NaN;
        if (stream.sqls.has(id)) throw protocolError(`SQL text ${id} already exists`);
        if (stream.sqls.size >= MAX_STORED_SQL)
          throw new StatementError(
            `The server already stores ${stream.sqls.size} SQL texts, it cannot store more`,
            'SQL_STORE_TOO_MANY',
          );
        const sql = request.sql ?? '';
        if (Buffer.byteLength(sql) > MAX_STORED_SQL_BYTES)
          throw new StatementError(
            'The statement is too large to be stored',
            'SQL_STORE_TOO_LARGE',
          );
        stream.sqls.set(id, sql);
        return { type: 'store_sql' };
      }
      case 'close_sql':
        stream.sqls.delete(request.sql_id ?? Number.NaN);
        return { type: 'close_sql' };
      case 'get_autocommit':
        if (version < 3)
          throw protocolError(
            'The `get_autocommit` request is only supported in protocol version hrana3 and higher',
          );
        open();
        return { type: 'get_autocommit', is_autocommit: !stream.db.inTransaction };
      case 'close':
        closeStream(stream, 'closed');
        return { type: 'close' };
      default:
        throw protocolError('Cannot deserialize client message from JSON: unknown request type');
    }
  }

  function closeStream(stream: Stream, state: 'closed' | 'expired'): void {
    if (stream.state === 'closed' || stream.state === 'expired') return;
    clearTimeout(stream.idleTimer);
    rollback(stream);
    stream.db.close();
    stream.state = state;
    if (state === 'closed') streams.delete(stream.id);
  }

  const sign = (payload: string) =>
    createHmac('sha256', batonKey).update(payload).digest('base64url');

  function acquire(baton: string | null | undefined): Stream {
    if (baton === null || baton === undefined) {
      const stream: Stream = {
        id: randomBytes(8).toString('hex'),
        db: connect(),
        sqls: new Map(),
        seq: 0,
        state: 'busy',
        stolen: false,
      };
      streams.set(stream.id, stream);
      return stream;
    }
    const [id = '', seq = '', mac = ''] = baton.split('.');
    const expected = Buffer.from(sign(`${id}.${seq}`));
    const stream = streams.get(id);
    if (!stream || mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), expected))
      throw protocolError('Received an invalid baton');
    if (stream.state === 'expired')
      throw new HttpFailure(500, {
        message: 'The stream has expired due to inactivity',
        code: 'STREAM_EXPIRED',
      });
    if (stream.state === 'busy' || Number(seq) !== stream.seq)
      throw protocolError('Received a baton that has already been used');
    clearTimeout(stream.idleTimer);
    stream.state = 'busy';
    stream.seq += 1;
    return stream;
  }

  /** The stream's next baton, or null once it is closed. */
  function release(stream: Stream): string | null {
    if (stream.state !== 'busy') return null;
    stream.state = 'idle';
    stream.idleTimer = setTimeout(() => closeStream(stream, 'expired'), streamIdleMs).unref();
    return `${stream.id}.${stream.seq}.${sign(`${stream.id}.${stream.seq}`)}`;
  }

  async function pipeline(body: unknown, version: number): Promise<unknown> {
    const { baton, requests: list } = (body ?? {}) as {
      baton?: string | null;
      requests?: HranaRequest[];
    };
    if (!Array.isArray(list))
      throw protocolError('Cannot deserialize client message from JSON: missing field `requests`');
    const stream = acquire(baton);
    const results: unknown[] = [];
    try {
      for (const request of list) {
        try {
          results.push({ type: 'ok', response: await handle(stream, request, version) });
        } catch (error) {
          if (!(error instanceof StatementError)) throw error;
          results.push({ type: 'error', error: error.toJSON() });
        }
      }
    } catch (error) {
      closeStream(stream, 'closed'); // sqld drops a stream whose request failed outright
      throw error;
    }
    return { baton: release(stream), base_url: null, results };
  }

  function authFailure(header: string | undefined): HttpFailure | undefined {
    if (options.authToken === undefined) return undefined;
    const reason =
      header === undefined
        ? 'The `Authorization` HTTP header is required but was not specified'
        : !/^Bearer /i.test(header)
          ? 'The authentication scheme in the `Authorization` HTTP header is not supported'
          : header.slice('Bearer '.length) === options.authToken
            ? undefined
            : 'The JWT is invalid';
    return reason === undefined
      ? undefined
      : new HttpFailure(401, { error: `Unauthorized: \`${reason}\`` });
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: string, contentType = 'text/plain') => {
      res.writeHead(status, { 'content-type': contentType });
      res.end(body);
    };
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /health') return reply(200, '');
    if (route === 'GET /' || route === 'GET /v2' || route === 'GET /v3')
      return reply(200, 'Hello, this is HTTP API v2 (Hrana over HTTP)');
    const version = route === 'POST /v2/pipeline' ? 2 : route === 'POST /v3/pipeline' ? 3 : 0;
    if (version === 0) return reply(404, '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests += 1;
    try {
      const denied = authFailure(req.headers.authorization);
      if (denied) throw denied;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        throw protocolError(`Cannot deserialize client message from JSON: ${String(error)}`);
      }
      reply(200, JSON.stringify(await pipeline(body, version)), 'application/json');
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      reply(error.status, error.body, error.contentType);
    }
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`Internal Error: \`${error instanceof Error ? error.message : String(error)}\``);
    });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const reader = connect();
  return {
    url: `http://127.0.0.1:${port}`,
    path,
    get requests() {
      return requests;
    },
    query: (sql) => reader.prepare(sql).all() as Record<string, unknown>[],
    close: async () => {
      server.closeAllConnections();
      server.close();
      for (const stream of [...streams.values()]) closeStream(stream, 'closed');
      releaseLock();
      for (const db of [reader, probe, admin, parser]) db.close();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

/**
 * sqld's binding (its `Params::bind`): every parameter needs a value, found
 * by position (`?`, `?N`) or by name with or without its prefix (`:a`, `@a`,
 * `$a`); an extra argument is an error too. SQLite itself would bind NULL.
 */
function bindArguments(statement: SqlStatement, stmt: HranaStmt): unknown[] {
  const positional = (stmt.args ?? []).map(fromHrana);
  const named = new Map((stmt.named_args ?? []).map(({ name, value }) => [name, fromHrana(value)]));
  const invalid = (reason: string) =>
    new StatementError(`Arguments do not match SQL parameters: ${reason}`, 'ARGS_INVALID');
  const count = statement.parameters.length;
  const given = named.size > 0 ? named.size : positional.length;
  if (given > count) throw invalid(`too many parameters, expected ${count} found ${given}`);
  return statement.parameters.map((name, i) => {
    const index = i + 1;
    const byPosition = named.size > 0 ? undefined : positional;
    let found: { value: unknown } | undefined;
    if (name === null || name.startsWith('?')) {
      if (byPosition && index <= byPosition.length) found = { value: byPosition[index - 1] };
    } else if (named.has(name)) {
      found = { value: named.get(name) };
    } else if (named.has(name.slice(1))) {
      found = { value: named.get(name.slice(1)) };
    }
    if (!found) throw invalid(`value for parameter ${name ?? index} not found`);
    return found.value;
  });
}

/** SQLite's code for a libsql error: `SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_BUSY`, …; '' for others. */
function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : '';
}

/**
 * sqld's StmtError for what SQLite refused: the primary code (sqld's
 * rusqlite names SQLITE_ERROR `SQLITE_UNKNOWN`), and for a statement SQLite
 * could not prepare (a missing table or column) SQL_INPUT_ERROR.
 */
function sqliteError(error: unknown, when: 'prepare' | 'step'): Error {
  const code = sqliteCode(error);
  if (code === '') return error as Error;
  const message = error instanceof Error ? error.message : String(error);
  const primary = code.split('_').slice(0, 2).join('_');
  if (code === 'SQLITE_BUSY') return error as Error; // waited for by whenUnlocked
  if (primary === 'SQLITE_ERROR' && when === 'prepare')
    return new StatementError(`SQL input error: ${message}`, 'SQL_INPUT_ERROR');
  return new StatementError(
    `SQLite error: ${message}`,
    primary === 'SQLITE_ERROR' ? 'SQLITE_UNKNOWN' : primary,
  );
}

function fromHrana(value: HranaValue): unknown {
  switch (value?.type) {
    case 'null':
      return null;
    case 'integer':
      return BigInt(value.value);
    case 'float':
      return value.value;
    case 'text':
      return value.value;
    case 'blob':
      return Buffer.from(value.base64, 'base64');
    default:
      throw protocolError('Value type not recognized');
  }
}

function toHrana(value: unknown): HranaValue {
  if (value === null || value === undefined) return { type: 'null' };
  if (typeof value === 'bigint') return { type: 'integer', value: value.toString() };
  if (typeof value === 'number') return { type: 'float', value };
  if (typeof value === 'string') return { type: 'text', value };
  if (value instanceof Uint8Array)
    return { type: 'blob', base64: Buffer.from(value).toString('base64') };
  return { type: 'text', value: String(value) };
}

function holds(cond: HranaCond, succeeded: boolean[], stream: Stream): boolean {
  switch (cond.type) {
    case 'ok':
      return succeeded[cond.step] === true;
    case 'error':
      // sqld evaluates `error` as "not ok", so a skipped step counts as failed (the spec says it does not).
      return succeeded[cond.step] !== true;
    case 'not':
      return !holds(cond.cond, succeeded, stream);
    case 'and':
      return cond.conds.every((c) => holds(c, succeeded, stream));
    case 'or':
      return cond.conds.some((c) => holds(c, succeeded, stream));
    case 'is_autocommit':
      return !stream.db.inTransaction;
  }
}
