import { mkdirSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, createClient } from '@libsql/client';
import { errorMessage, ServiceUnavailableError, UserFacingError } from '../errors.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { NativeFileClient } from './native-file-client.ts';
import { RemoteClient } from './remote-client.ts';
import { describeRemoteFailure, redactUrls } from './remote-failure.ts';
import { type DatabaseTarget, describeTarget } from './target.ts';

export type { Client } from '@libsql/client';

/** How long a writer waits for another process's lock before giving up (SPEC §4: several processes, one file). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  /** How long a writer waits for another process's lock on a file (SQLite's busy timeout). */
  busyTimeoutMs?: number;
}

/**
 * Opens the history database, upgrades its schema and proves it can be
 * written, so that a bad path fails here with the path in the message rather
 * than at the first run.
 */
export async function openDatabase(
  target: DatabaseTarget,
  { busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS }: OpenOptions = {},
): Promise<Client> {
  const where = describeTarget(target);
  const fail = (error: unknown) => openError(target, where, error, busyTimeoutMs);
  if (target.kind === 'file') {
    const notAFile = describeNonFile(statIfPossible(target.path));
    // A device or a pipe is no database; SQLite would fail on it late, or wait for a lock.
    if (notAFile) throw fail(new UserFacingError(notAFile));
  }
  let client: Client;
  try {
    client =
      target.kind === 'file'
        ? openFile(target, busyTimeoutMs)
        : new RemoteClient(
            createClient({
              url: target.url,
              ...(target.authToken ? { authToken: target.authToken } : {}),
            }),
            { where, hasToken: target.authToken !== undefined },
          );
  } catch (error) {
    throw fail(error);
  }
  try {
    if (target.kind === 'file') {
      // WAL lets readers and one writer share the file across processes; NORMAL is durable in WAL mode short of power loss.
      await whileBusy(() => client.execute('PRAGMA journal_mode = WAL'), busyTimeoutMs);
      await client.execute('PRAGMA synchronous = NORMAL');
    }
    await migrate(client);
    // The write probe: a file that can be read but not written fails here too.
    await client.execute('UPDATE aegis_schema SET version = version');
  } catch (error) {
    client.close();
    throw fail(error);
  }
  return client;
}

/** The path's stats; undefined when it does not exist or cannot be looked at (the open then says why). */
function statIfPossible(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** What a path that exists but is not a regular file is, in words; undefined for a file or nothing. */
function describeNonFile(stats: Stats | undefined): string | undefined {
  if (!stats || stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'it is a directory, not a file';
  const kind = stats.isCharacterDevice()
    ? 'a character device'
    : stats.isBlockDevice()
      ? 'a block device'
      : stats.isFIFO()
        ? 'a named pipe (FIFO)'
        : stats.isSocket()
          ? 'a socket'
          : 'not a regular file';
  return `it is ${kind}, not a regular file, so it cannot be a database file`;
}

/**
 * Retries what SQLite refuses with SQLITE_BUSY without waiting for the busy
 * timeout: switching a new file to WAL while another process does the same
 * fails at once (seen with several `aegis run` starting together).
 */
async function whileBusy<T>(action: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await action();
    } catch (error) {
      if (!sqliteCode(error).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      await sleep(10 + Math.random() * 40);
    }
  }
}

/**
 * The native driver opens the file at once. Its directory is created only
 * when that fails, so that a Lambda bundle, which has no native driver and
 * refuses any file, says so rather than failing on a directory it could
 * never use.
 */
function openFile(
  target: Extract<DatabaseTarget, { kind: 'file' }>,
  busyTimeoutMs: number,
): Client {
  if (/[?#]/.test(target.url.replace(/^file:/i, '')))
    throw Object.assign(new Error('a file: URL takes no query string or fragment'), {
      code: 'URL_INVALID',
    });
  const open = () => new NativeFileClient(target.path, { busyTimeoutMs });
  try {
    return open();
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('URL_')) throw error;
    ensureDirectory(dirname(target.path));
    return open();
  }
}

/**
 * `mkdir -p`, one level at a time: Node's `recursive: true` spins forever
 * where a parent exists but cannot hold children (under `/proc`, a dangling
 * symlink), and this fails there with the directory's error instead.
 */
function ensureDirectory(dir: string): void {
  const stats = statSync(dir, { throwIfNoEntry: false });
  if (stats?.isDirectory()) return;
  if (stats) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  const parent = dirname(dir);
  if (parent !== dir) ensureDirectory(parent);
  try {
    mkdirSync(dir);
  } catch (error) {
    // Another process may have created it meanwhile.
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw error;
  }
}

function openError(
  target: DatabaseTarget,
  where: string,
  error: unknown,
  busyTimeoutMs: number,
): Error {
  const code = (error as { code?: string }).code;
  if (code === 'URL_SCHEME_NOT_SUPPORTED') {
    // The Lambda bundle carries only the HTTP/WebSocket client: it cannot open a file.
    return new ServiceUnavailableError(
      `the history database is not available here: ${target.kind === 'file' ? 'a file database needs the native client; set AEGIS_DB_URL to a libsql:// or https:// server' : `AEGIS_DB_URL is not usable (${errorMessage(error)})`}`,
    );
  }
  if (code === 'URL_INVALID' || code === 'URL_PARAM_NOT_SUPPORTED') {
    return new UserFacingError(
      `cannot open the history database: AEGIS_DB_URL is not valid (${firstLine(errorMessage(error))})`,
    );
  }
  return new UserFacingError(
    `cannot open the history database at ${where}: ${describeOpenFailure(target, error, busyTimeoutMs)}`,
  );
}

/** SQLite's primary result codes that a failed open can carry, by number. */
const SQLITE_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  23: 'SQLITE_AUTH',
  26: 'SQLITE_NOTADB',
};

/**
 * The SQLite code of a failure: libSQL's errors carry it as `code`, except a
 * failed open, which is a bare `ConnectionFailed("…: 14")`.
 */
function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  const number = /ConnectionFailed\(.*: (\d+)"?\)\s*$/s.exec(errorMessage(error))?.[1];
  return number === undefined ? '' : (SQLITE_CODES[Number(number)] ?? `SQLite error ${number}`);
}

/** One line that says what is wrong, without repeating the path the caller names. */
function describeOpenFailure(
  target: DatabaseTarget,
  error: unknown,
  busyTimeoutMs: number,
): string {
  if (error instanceof UserFacingError) return error.message;
  if (target.kind === 'remote') {
    return (
      describeRemoteFailure(error, target.authToken !== undefined) ??
      redactUrls(firstLine(errorMessage(error)))
    );
  }
  const code = sqliteCode(error);
  const fsPath = (error as { path?: unknown }).path;
  const at = typeof fsPath === 'string' && fsPath !== '' ? ` (${fsPath})` : '';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied${at}`;
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a parent of it is not a directory';
  if (code === 'EROFS') return `the file system is read-only${at}`;
  if (code === 'ENOENT') return `cannot create its directory${at}`;
  if (code.startsWith('SQLITE_READONLY')) return 'the file is read-only';
  if (code.startsWith('SQLITE_NOTADB')) return 'the file is not a libSQL/SQLite database';
  if (code.startsWith('SQLITE_CORRUPT')) return 'the database file is corrupt';
  if (code.startsWith('SQLITE_BUSY'))
    return `another process held the database locked for over ${busyTimeoutMs / 1000}s`;
  if (code.startsWith('SQLITE_CANTOPEN'))
    return 'cannot create or open the file (check that its directory is writable)';
  return firstLine(errorMessage(error));
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/**
 * Brings the schema up to `upTo` (the latest by default) and returns the
 * version the database is at. Each migration is one batch that also records
 * its version in `aegis_schema`, whose primary key lets only one of several
 * processes opening the file at once apply it; the others see it applied and
 * go on. A batch, unlike an interactive transaction, never holds the write
 * lock across an await, where another client in the same process would have
 * to wait for it with the event loop blocked.
 */
export async function migrate(client: Client, upTo = SCHEMA_VERSION): Promise<number> {
  await ensureVersionTable(client);
  for (;;) {
    const current = await schemaVersion(client);
    if (current > SCHEMA_VERSION) {
      throw new UserFacingError(
        `its schema version ${current} is newer than this Aegis understands (${SCHEMA_VERSION}); upgrade Aegis`,
      );
    }
    if (current >= Math.min(upTo, SCHEMA_VERSION)) return current;
    try {
      await client.batch(
        [
          {
            sql: 'INSERT INTO aegis_schema (version, applied_at) VALUES (?, ?)',
            args: [current + 1, new Date().toISOString()],
          },
          ...(MIGRATIONS[current] ?? []),
        ],
        'write',
      );
    } catch (error) {
      if ((await schemaVersion(client)) > current) continue; // another process applied it first
      throw error;
    }
  }
}

/**
 * Creates the version table in a new, empty database. A database that holds
 * other tables but no version is someone else's: it is refused rather than
 * written into.
 */
async function ensureVersionTable(client: Client): Promise<void> {
  const tables = (await client.execute(`SELECT name FROM sqlite_schema WHERE type = 'table'`)).rows
    .map((row) => String(row.name))
    .filter((name) => !/^(sqlite_|libsql_|_litestream_)/.test(name));
  if (tables.includes('aegis_schema')) return;
  if (tables.length > 0) {
    throw new UserFacingError(
      `it is not an Aegis history database (it holds the tables ${tables.sort().join(', ')}); point history_db_path or AEGIS_DB_PATH at a new file`,
    );
  }
  await client.execute(
    'CREATE TABLE IF NOT EXISTS aegis_schema (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
}

/** The newest migration applied; 0 for a new database. */
async function schemaVersion(client: Client): Promise<number> {
  const result = await client.execute('SELECT max(version) AS version FROM aegis_schema');
  return Number(result.rows[0]?.version ?? 0);
}
