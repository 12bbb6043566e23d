import {
  type Client,
  type InArgs,
  type InStatement,
  type InValue,
  LibsqlBatchError,
  LibsqlError,
  type ResultSet,
  type Row,
  type Transaction,
  type TransactionMode,
} from '@libsql/client';
import Database from 'libsql';

/** Distinct statements kept prepared; Aegis writes a few dozen, so this is never reached in use. */
const MAX_PREPARED = 512;

const CHANGE_TOKEN_SQL = 'SELECT data_version, total_changes() FROM pragma_data_version';

type Statement = ReturnType<Database.Database['prepare']>;

/** A prepared statement, and for one that returns rows, its column names. */
interface Prepared {
  statement: Statement;
  /** null for a statement that returns no rows. */
  columns: string[] | null;
}
type Bindable = number | string | bigint | Buffer | null;

/**
 * The history file through the `libsql` driver directly, with its prepared
 * statements kept. `@libsql/client` prepares every statement afresh, and
 * each prepared statement keeps native memory that is never given back
 * (libsql-client-ts #333: ~14 KB per batch, hundreds of MB over a day of
 * runs), besides costing its parse every time. One connection, used
 * synchronously: a batch runs BEGIN … COMMIT without yielding, so nothing
 * else of this process interleaves with it. Remote databases keep the
 * libSQL client.
 */
export class NativeFileClient implements Client {
  readonly protocol = 'file';
  readonly #db: Database.Database;
  /** Prepared statements by SQL, most recently used last. */
  readonly #prepared = new Map<string, Prepared>();

  constructor(path: string, { busyTimeoutMs }: { busyTimeoutMs: number }) {
    try {
      this.#db = new Database(path, { timeout: busyTimeoutMs });
    } catch (error) {
      throw libsqlError(error);
    }
  }

  get closed(): boolean {
    return !this.#db.open;
  }

  /** How many distinct statements are kept prepared (bounded by MAX_PREPARED). */
  get preparedStatements(): number {
    return this.#prepared.size;
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  async execute(stmt: InStatement | string, args?: InArgs): Promise<ResultSet> {
    this.#checkOpen();
    try {
      return this.#run(
        typeof stmt === 'string' ? { sql: stmt, args: args ?? [] } : normalized(stmt),
      );
    } catch (error) {
      throw libsqlError(error);
    }
  }

  async batch(
    stmts: (InStatement | [string, InArgs?])[],
    mode: TransactionMode = 'deferred',
  ): Promise<ResultSet[]> {
    this.#checkOpen();
    this.#exec(mode === 'write' ? 'BEGIN IMMEDIATE' : mode === 'read' ? 'BEGIN' : 'BEGIN DEFERRED');
    const results: ResultSet[] = [];
    try {
      for (const [index, stmt] of stmts.entries()) {
        try {
          results.push(this.#run(normalized(stmt)));
        } catch (error) {
          const cause = libsqlError(error);
          throw new LibsqlBatchError(
            cause.message,
            index,
            cause.code,
            cause.extendedCode,
            cause.rawCode,
            cause,
          );
        }
      }
      this.#exec('COMMIT');
      return results;
    } catch (error) {
      if (this.#db.inTransaction) this.#exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * Changes whenever the file's content may have: SQLite's `data_version`
   * moves with every commit of another connection (another process's
   * included), `total_changes()` with this connection's own writes. Two equal
   * tokens mean nothing was written in between, so an answer read at the
   * first still holds at the second.
   */
  changeToken(): string {
    this.#checkOpen();
    const { statement } = this.#statement(CHANGE_TOKEN_SQL);
    return (statement.get([]) as unknown[]).join(':');
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.batch(stmts, 'write');
  }

  /** Interactive transactions would hold the write lock across awaits: Aegis writes in batches only. */
  async transaction(): Promise<Transaction> {
    throw new LibsqlError(
      'interactive transactions are not used with the history file: write with batch()',
      'TRANSACTION_UNSUPPORTED',
    );
  }

  async executeMultiple(sql: string): Promise<void> {
    this.#checkOpen();
    this.#exec(sql);
  }

  async sync(): Promise<undefined> {
    return undefined;
  }

  reconnect(): void {}

  close(): void {
    if (this.#db.open) this.#db.close();
    this.#prepared.clear();
  }

  #checkOpen(): void {
    if (!this.#db.open) throw new LibsqlError('The client is closed', 'CLIENT_CLOSED');
  }

  #exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (error) {
      throw libsqlError(error);
    }
  }

  #statement(sql: string): Prepared {
    const cached = this.#prepared.get(sql);
    if (cached) {
      this.#prepared.delete(sql);
      this.#prepared.set(sql, cached);
      return cached;
    }
    const statement = this.#db.prepare(sql);
    // Rows come back as arrays and are named here: the driver's own row objects keep native
    // memory that is not given back (about 1 KB per call, seen over 50,000 calls).
    const columns = statement.reader ? statement.columns().map((column) => column.name) : null;
    if (columns) statement.raw(true);
    const prepared = { statement, columns };
    if (this.#prepared.size >= MAX_PREPARED) {
      const oldest = this.#prepared.keys().next().value;
      if (oldest !== undefined) this.#prepared.delete(oldest);
    }
    this.#prepared.set(sql, prepared);
    return prepared;
  }

  #run(stmt: { sql: string; args: InArgs }): ResultSet {
    const { statement, columns } = this.#statement(stmt.sql);
    const args = bindings(stmt.args) ?? [];
    if (columns) {
      const rows = (statement.all(args) as unknown[][]).map((values) => {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) row[columns[i] as string] = values[i];
        return row as Row;
      });
      return resultSet(columns, rows, 0, undefined);
    }
    const info = statement.run(args);
    return resultSet([], [], info.changes, BigInt(info.lastInsertRowid));
  }
}

/** Every form a statement may come in, as `{sql, args}`. */
function normalized(stmt: InStatement | [string, InArgs?]): { sql: string; args: InArgs } {
  if (typeof stmt === 'string') return { sql: stmt, args: [] };
  if (Array.isArray(stmt)) return { sql: stmt[0], args: stmt[1] ?? [] };
  return { sql: stmt.sql, args: stmt.args ?? [] };
}

/** The client's argument forms as the driver takes them: positional, or named without their prefix. */
function bindings(args: InArgs | undefined): Bindable[] | Record<string, Bindable> | undefined {
  if (args === undefined) return undefined;
  if (Array.isArray(args)) return args.length === 0 ? undefined : args.map(bindable);
  const named: Record<string, Bindable> = {};
  for (const [name, value] of Object.entries(args))
    named[/^[:@$]/.test(name) ? name.slice(1) : name] = bindable(value);
  return named;
}

function bindable(value: InValue): Bindable {
  if (value === null || typeof value === 'string' || typeof value === 'bigint') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new RangeError(`unsupported value for a SQL argument: ${typeof value}`);
}

function resultSet(
  columns: string[],
  rows: Row[],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet {
  return {
    columns,
    columnTypes: columns.map(() => ''),
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON: () => ({ columns, rows, rowsAffected, lastInsertRowid: lastInsertRowid?.toString() }),
  };
}

/** The driver's SqliteError as the client's LibsqlError: `code` the base SQLite code, `extendedCode` the driver's. */
function libsqlError(error: unknown): LibsqlError {
  if (error instanceof LibsqlError) return error;
  const { code, rawCode, message } = error as {
    code?: unknown;
    rawCode?: unknown;
    message?: unknown;
  };
  if (typeof code !== 'string') return new LibsqlError(String(message ?? error), 'UNKNOWN');
  const base =
    typeof rawCode === 'number'
      ? (SQLITE_BASE_CODES[rawCode & 0xff] ?? code)
      : code.replace(/_[A-Z_]+$/, '');
  return new LibsqlError(
    String(message),
    base,
    code,
    typeof rawCode === 'number' ? rawCode : undefined,
    error instanceof Error ? error : undefined,
  );
}

const SQLITE_BASE_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR',
  2: 'SQLITE_INTERNAL',
  3: 'SQLITE_PERM',
  4: 'SQLITE_ABORT',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  17: 'SQLITE_SCHEMA',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  21: 'SQLITE_MISUSE',
  23: 'SQLITE_AUTH',
  25: 'SQLITE_RANGE',
  26: 'SQLITE_NOTADB',
};
