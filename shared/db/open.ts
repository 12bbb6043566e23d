import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Client, createClient } from '@libsql/client';
import { errorMessage, ServiceUnavailableError, UserFacingError } from '../errors.ts';
import { MIGRATIONS } from './migrations.ts';
import { type DatabaseTarget, describeTarget } from './target.ts';

export type { Client } from '@libsql/client';

/** How long a writer waits for another process's lock before giving up (SPEC §4: several processes, one file). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the history database, upgrades its schema and proves it can be
 * written, so that a bad path fails here with the path in the message rather
 * than at the first run.
 */
export async function openDatabase(target: DatabaseTarget): Promise<Client> {
  const where = describeTarget(target);
  let client: Client;
  try {
    if (target.kind === 'file') mkdirSync(dirname(target.path), { recursive: true });
    client =
      target.kind === 'file'
        ? createClient({ url: target.url, timeout: BUSY_TIMEOUT_MS, concurrency: 1 })
        : createClient({
            url: target.url,
            ...(target.authToken ? { authToken: target.authToken } : {}),
          });
  } catch (error) {
    throw openError(target, where, error);
  }
  try {
    if (target.kind === 'file') {
      // WAL lets readers and one writer share the file across processes; NORMAL is durable in WAL mode short of power loss.
      await client.execute('PRAGMA journal_mode = WAL');
      await client.execute('PRAGMA synchronous = NORMAL');
    }
    await migrate(client);
    await client.execute('UPDATE aegis_schema SET version = version');
  } catch (error) {
    client.close();
    throw openError(target, where, error);
  }
  return client;
}

function openError(target: DatabaseTarget, where: string, error: unknown): Error {
  const code = (error as { code?: string }).code;
  if (code === 'URL_SCHEME_NOT_SUPPORTED' || code === 'URL_INVALID') {
    // The Lambda bundle carries only the HTTP/WebSocket client: it cannot open a file.
    return new ServiceUnavailableError(
      `the history database is not available here: ${target.kind === 'file' ? 'a file database needs the native client; set AEGIS_DB_URL to a libsql:// or https:// server' : `AEGIS_DB_URL is not usable (${errorMessage(error)})`}`,
    );
  }
  const reason = describeOpenFailure(error);
  return new UserFacingError(`cannot open the history database at ${where}: ${reason}`);
}

function describeOpenFailure(error: unknown): string {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a parent of it is not a directory';
  if (code.startsWith('SQLITE_READONLY')) return 'the file is read-only';
  if (code.startsWith('SQLITE_CANTOPEN'))
    return 'cannot create or open the file (check that the directory exists and is writable)';
  if (code.startsWith('SQLITE_NOTADB')) return 'the file is not a libSQL/SQLite database';
  return errorMessage(error);
}

/** Applies the migrations this database has not seen, each in its own write transaction. */
export async function migrate(client: Client, upTo = MIGRATIONS.length): Promise<number> {
  await client.execute('CREATE TABLE IF NOT EXISTS aegis_schema (version INTEGER NOT NULL)');
  await client.execute(
    'INSERT INTO aegis_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM aegis_schema)',
  );
  for (;;) {
    const tx = await client.transaction('write');
    try {
      const current = Number(
        (await tx.execute('SELECT version FROM aegis_schema')).rows[0]?.version ?? 0,
      );
      if (current > MIGRATIONS.length) {
        throw new UserFacingError(
          `the history database has schema version ${current}, newer than this Aegis understands (${MIGRATIONS.length}); upgrade Aegis`,
        );
      }
      if (current >= upTo) {
        await tx.rollback();
        return current;
      }
      for (const sql of MIGRATIONS[current] ?? []) await tx.execute(sql);
      await tx.execute({ sql: 'UPDATE aegis_schema SET version = ?', args: [current + 1] });
      await tx.commit();
    } finally {
      tx.close();
    }
  }
}
