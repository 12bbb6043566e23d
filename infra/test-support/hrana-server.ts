import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'libsql';

/**
 * A libSQL server for tests, as far as a Lambda bundle needs one: the Hrana 2
 * protocol over HTTP (`POST /v2/pipeline`, JSON), which is what
 * `@libsql/client/web` speaks to `sqld` and Turso for `libsql://` and
 * `https://` URLs, in front of a real libSQL database (the native `libsql`
 * package, in memory). No npm package runs `sqld` itself: the `turso` CLI's
 * `--sync-server` answers only `execute` and `batch`, not the `close`,
 * `sequence` and batons (interactive transactions) the client sends.
 *
 * Streams and batons work as in sqld: a stream that is inside a transaction
 * keeps the connection, and the other streams' pipelines wait (up to
 * `lockWaitMs`) until it commits, rolls back or is closed.
 */
export interface HranaServer {
  /** `http://127.0.0.1:<port>`: what AEGIS_DB_URL is set to. */
  url: string;
  /** The pipeline requests received, for assertions. */
  requests: number;
  /** Runs SQL on the database directly (to look at what a bundle wrote). */
  query(sql: string): Record<string, unknown>[];
  close(): Promise<void>;
}

type HranaValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

interface HranaStmt {
  sql?: string;
  sql_id?: number;
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
  sql?: string;
  sql_id?: number;
}

interface StmtResult {
  cols: { name: string; decltype: string | null }[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

class HranaError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

interface Stream {
  id: string;
  sqls: Map<number, string>;
}

export interface HranaServerOptions {
  /** When set, every request needs `Authorization: Bearer <token>` (what AEGIS_DB_AUTH_TOKEN sends). */
  authToken?: string;
  lockWaitMs?: number;
}

export async function startHranaServer(options: HranaServerOptions = {}): Promise<HranaServer> {
  const db = new Database(':memory:');
  const streams = new Map<string, Stream>();
  const lockWaitMs = options.lockWaitMs ?? 5000;
  let owner: string | null = null; // the stream inside a transaction
  let busy = false;
  let wake: (() => void)[] = [];
  let requests = 0;

  const notify = () => {
    const waiting = wake;
    wake = [];
    for (const resolve of waiting) resolve();
  };

  async function acquire(streamId: string): Promise<void> {
    const deadline = Date.now() + lockWaitMs;
    while (busy || (owner !== null && owner !== streamId)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new HranaError('database is locked by another stream', 'SQLITE_BUSY');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    busy = true;
  }

  function release(streamId: string, closed: boolean): void {
    if (closed && db.inTransaction) db.exec('ROLLBACK');
    owner = db.inTransaction ? streamId : null;
    busy = false;
    notify();
  }

  function scalar(sql: string): unknown {
    return (db.prepare(sql).raw(true).get() as unknown[])[0];
  }

  function execute(stream: Stream, stmt: HranaStmt): StmtResult {
    const sql = stmt.sql ?? (stmt.sql_id === undefined ? undefined : stream.sqls.get(stmt.sql_id));
    if (sql === undefined) throw new HranaError('statement has no SQL', 'SQL_NOT_FOUND');
    const prepared = db.prepare(sql).safeIntegers(true);
    const named = stmt.named_args ?? [];
    const args =
      named.length > 0
        ? [
            Object.fromEntries(
              named.map(({ name, value }) => [name.replace(/^[:@$]/, ''), fromHrana(value)]),
            ),
          ]
        : (stmt.args ?? []).map(fromHrana);
    if (!prepared.reader) {
      const info = prepared.run(...args);
      return {
        cols: [],
        rows: [],
        affected_row_count: Number(info.changes),
        last_insert_rowid: String(info.lastInsertRowid),
      };
    }
    const before = Number(scalar('SELECT total_changes()'));
    prepared.raw(true);
    const rows = prepared.all(...args) as unknown[][];
    const changed = Number(scalar('SELECT total_changes()')) - before;
    return {
      cols: prepared.columns().map((c) => ({ name: c.name, decltype: c.type })),
      rows: stmt.want_rows === false ? [] : rows.map((row) => row.map(toHrana)),
      affected_row_count: changed,
      last_insert_rowid: changed > 0 ? String(scalar('SELECT last_insert_rowid()')) : null,
    };
  }

  function runBatch(stream: Stream, batch: NonNullable<HranaRequest['batch']>) {
    const results: (StmtResult | null)[] = [];
    const errors: ({ message: string; code: string } | null)[] = [];
    const holds = (cond: HranaCond): boolean => {
      switch (cond.type) {
        case 'ok':
          return results[cond.step] != null;
        case 'error':
          return errors[cond.step] != null;
        case 'not':
          return !holds(cond.cond);
        case 'and':
          return cond.conds.every(holds);
        case 'or':
          return cond.conds.some(holds);
        case 'is_autocommit':
          return !db.inTransaction;
      }
    };
    for (const step of batch.steps) {
      if (step.condition && !holds(step.condition)) {
        results.push(null);
        errors.push(null);
        continue;
      }
      try {
        results.push(execute(stream, step.stmt));
        errors.push(null);
      } catch (error) {
        results.push(null);
        errors.push(hranaError(error));
      }
    }
    return { step_results: results, step_errors: errors };
  }

  function handle(stream: Stream, request: HranaRequest): unknown {
    switch (request.type) {
      case 'execute':
        return { type: 'execute', result: execute(stream, request.stmt ?? {}) };
      case 'batch':
        return { type: 'batch', result: runBatch(stream, request.batch ?? { steps: [] }) };
      case 'sequence': {
        const sql =
          request.sql ??
          (request.sql_id === undefined ? undefined : stream.sqls.get(request.sql_id));
        if (sql === undefined) throw new HranaError('sequence has no SQL', 'SQL_NOT_FOUND');
        db.exec(sql);
        return { type: 'sequence' };
      }
      case 'store_sql':
        stream.sqls.set(request.sql_id ?? -1, request.sql ?? '');
        return { type: 'store_sql' };
      case 'close_sql':
        stream.sqls.delete(request.sql_id ?? -1);
        return { type: 'close_sql' };
      case 'get_autocommit':
        return { type: 'get_autocommit', is_autocommit: !db.inTransaction };
      case 'close':
        return { type: 'close' };
      default:
        throw new HranaError(`request type "${request.type}" is not supported`, 'PROTOCOL_ERROR');
    }
  }

  async function pipeline(body: { baton?: string | null; requests: HranaRequest[] }) {
    let stream: Stream | undefined;
    if (body.baton) {
      stream = streams.get(body.baton);
      if (!stream) throw new HranaError('unknown or expired baton', 'STREAM_EXPIRED');
      streams.delete(body.baton);
    } else {
      stream = { id: randomUUID(), sqls: new Map() };
    }
    await acquire(stream.id);
    let closed = false;
    const results: unknown[] = [];
    try {
      for (const request of body.requests) {
        if (closed) {
          results.push({
            type: 'error',
            error: { message: 'stream is closed', code: 'STREAM_CLOSED' },
          });
          continue;
        }
        try {
          results.push({ type: 'ok', response: handle(stream, request) });
        } catch (error) {
          results.push({ type: 'error', error: hranaError(error) });
        }
        if (request.type === 'close') closed = true;
      }
    } finally {
      release(stream.id, closed);
    }
    let baton: string | null = null;
    if (!closed) {
      baton = randomUUID();
      streams.set(baton, stream);
    }
    return { baton, base_url: null, results };
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (
      options.authToken !== undefined &&
      req.headers.authorization !== `Bearer ${options.authToken}`
    )
      return reply(401, { message: 'Unauthorized' });
    if (req.method === 'GET' && (req.url === '/v2' || req.url === '/')) return reply(200, {});
    if (req.method !== 'POST' || req.url !== '/v2/pipeline')
      return reply(404, { message: 'Not found' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests += 1;
    try {
      reply(200, await pipeline(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    } catch (error) {
      reply(400, hranaError(error));
    }
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    query: (sql) => db.prepare(sql).all() as Record<string, unknown>[],
    close: async () => {
      server.closeAllConnections();
      server.close();
      db.close();
    },
  };
}

function fromHrana(value: HranaValue): unknown {
  switch (value.type) {
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

function hranaError(error: unknown): { message: string; code: string } {
  const code = (error as { code?: unknown }).code;
  return {
    message: error instanceof Error ? error.message : String(error),
    code: typeof code === 'string' ? code : 'UNKNOWN',
  };
}
