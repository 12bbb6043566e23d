import { ENV, type Environment, readEnv } from '../env.ts';

/** Where the history lives: a local file, or a libSQL server (`libsql://`, `https://`, …). */
export type DatabaseTarget =
  | { kind: 'file'; path: string; url: string }
  | { kind: 'remote'; url: string; authToken: string | undefined };

/** `AEGIS_DB_URL` (with `AEGIS_DB_AUTH_TOKEN`) wins over the file path (SPEC §1). */
export function resolveDatabaseTarget(historyDbPath: string, env: Environment): DatabaseTarget {
  const url = readEnv(env, ENV.dbUrl);
  if (url === undefined) return { kind: 'file', path: historyDbPath, url: `file:${historyDbPath}` };
  if (url.startsWith('file:')) return { kind: 'file', path: url.slice('file:'.length), url };
  return { kind: 'remote', url, authToken: readEnv(env, ENV.dbAuthToken) };
}

/** A URL safe to print: no credentials, no query string (which may carry a token). */
export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'file') return target.path;
  try {
    const url = new URL(target.url);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '(invalid AEGIS_DB_URL)';
  }
}
