import { ENV, readEnv } from '#shared/env.ts';
import { startHranaServer } from '../../infra/test-support/hrana-server.ts';

/** The libSQL server a `*.remote.test.ts` file runs against. */
export interface RemoteDatabase {
  /** What Aegis reads to reach it: AEGIS_DB_URL, and AEGIS_DB_AUTH_TOKEN when there is one. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Which server the remote tests run against, for their titles. */
export const REMOTE_BACKEND =
  readEnv(process.env, ENV.dbUrl) === undefined ? 'the Hrana test server' : 'AEGIS_DB_URL';

/**
 * AEGIS_DB_URL (with AEGIS_DB_AUTH_TOKEN) when the environment sets it, as
 * the CI's `remote-libsql` job does for a real sqld; else a Hrana test server
 * started for the file. A real server is shared by every test that runs
 * against it, so a remote test never assumes an empty database: it names its
 * own runs and looks only at them.
 */
export async function remoteDatabase(): Promise<RemoteDatabase> {
  const url = readEnv(process.env, ENV.dbUrl);
  if (url !== undefined) {
    const token = readEnv(process.env, ENV.dbAuthToken);
    return {
      env: { [ENV.dbUrl]: url, ...(token === undefined ? {} : { [ENV.dbAuthToken]: token }) },
      close: async () => {},
    };
  }
  const server = await startHranaServer();
  return { env: { [ENV.dbUrl]: server.url }, close: server.close };
}
