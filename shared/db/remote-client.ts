import {
  type Client,
  type InArgs,
  type InStatement,
  LibsqlError,
  type ResultSet,
  type Transaction,
  type TransactionMode,
} from '@libsql/client';
import { describeRemoteFailure } from './remote-failure.ts';

/**
 * A libSQL server's client whose transport failures name the server (its
 * URL without credentials or query) and the cause, instead of the client's
 * bare "fetch failed": what a log line says when the server goes away while
 * a host runs. SQL errors pass through as they are.
 */
export class RemoteClient implements Client {
  readonly #inner: Client;
  readonly #where: string;
  readonly #hasToken: boolean;

  constructor(inner: Client, { where, hasToken }: { where: string; hasToken: boolean }) {
    this.#inner = inner;
    this.#where = where;
    this.#hasToken = hasToken;
  }

  get protocol(): string {
    return this.#inner.protocol;
  }

  get closed(): boolean {
    return this.#inner.closed;
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmt: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const call =
      typeof stmt === 'string' ? this.#inner.execute(stmt, args) : this.#inner.execute(stmt);
    return call.catch((error: unknown) => this.#fail(error));
  }

  batch(stmts: (InStatement | [string, InArgs?])[], mode?: TransactionMode): Promise<ResultSet[]> {
    return this.#inner.batch(stmts, mode).catch((error: unknown) => this.#fail(error));
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.#inner.migrate(stmts).catch((error: unknown) => this.#fail(error));
  }

  transaction(mode?: TransactionMode): Promise<Transaction> {
    return this.#inner.transaction(mode).catch((error: unknown) => this.#fail(error));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#inner.executeMultiple(sql).catch((error: unknown) => this.#fail(error));
  }

  sync() {
    return this.#inner.sync();
  }

  close(): void {
    this.#inner.close();
  }

  reconnect(): void {
    this.#inner.reconnect();
  }

  #fail(error: unknown): never {
    const why = describeRemoteFailure(error, this.#hasToken);
    if (why === undefined) throw error;
    const code = error instanceof LibsqlError ? error.code : 'SERVER_UNREACHABLE';
    throw new LibsqlError(
      `libSQL server ${this.#where}: ${why}`,
      code,
      undefined,
      undefined,
      error instanceof Error ? error : undefined,
    );
  }
}
