import { describe, expect, it, vi } from 'vitest';
import { ServiceUnavailableError } from '#shared/errors.ts';
import { tempDir } from '#test/support/temp.ts';
import { openDatabase } from './open.ts';
import { resolveDatabaseTarget } from './target.ts';

// What the Lambda bundle does: `@libsql/client` resolves to its HTTP/WebSocket-only build, and the
// native file driver to its stand-in (infra/lambda-resolve.mjs).
vi.mock('@libsql/client', () => import('@libsql/client/web'));
vi.mock('./native-file-client.ts', () => import('./no-native-file-client.ts'));

describe('openDatabase with the web client (Lambda)', () => {
  it('answers 503 for a file database, saying to set AEGIS_DB_URL', async () => {
    const target = resolveDatabaseTarget(`${tempDir()}/h.db`, {});

    const error = await openDatabase(target).then(
      () => new Error('expected the open to fail'),
      (failure: unknown) => failure as Error,
    );

    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toBe(
      'the history database is not available here: a file database needs the native client; set AEGIS_DB_URL to a libsql:// or https:// server',
    );
  });

  it('answers 503 for a file whose directory could not be created either', async () => {
    const target = resolveDatabaseTarget('/proc/aegis-lambda/sub/h.db', {});

    const error = await openDatabase(target).then(
      () => new Error('expected the open to fail'),
      (failure: unknown) => failure as Error,
    );

    expect(error).toBeInstanceOf(ServiceUnavailableError);
  });

  it('answers 503 for a URL scheme it does not speak', async () => {
    const target = resolveDatabaseTarget('x', { AEGIS_DB_URL: 'ftp://db.example.test/h' });

    const error = await openDatabase(target).then(
      () => new Error('expected the open to fail'),
      (failure: unknown) => failure as Error,
    );

    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(
      /^the history database is not available here: AEGIS_DB_URL is not usable \(/,
    );
  });
});
