import { normalize } from 'node:path';
import { ENV, type Environment, readEnv } from '../env.ts';

/** Where the history lives: a local file, or a libSQL server (`libsql://`, `https://`, …). */
export type DatabaseTarget =
  | { kind: 'file'; path: string; url: string }
  | { kind: 'remote'; url: string; authToken: string | undefined };

/** `AEGIS_DB_URL` (with `AEGIS_DB_AUTH_TOKEN`) wins over the file path (SPEC §1). */
export function resolveDatabaseTarget(historyDbPath: string, env: Environment): DatabaseTarget {
  const url = readEnv(env, ENV.dbUrl);
  if (url === undefined) return { kind: 'file', path: historyDbPath, url: fileUrl(historyDbPath) };
  if (/^file:/i.test(url)) return { kind: 'file', path: fileUrlPath(url), url };
  return { kind: 'remote', url, authToken: readEnv(env, ENV.dbAuthToken) };
}

/**
 * The `file:` URL libSQL opens for a path. Each segment is percent-encoded,
 * since libSQL decodes the path and reads `?` and `#` as query and fragment.
 */
export function fileUrl(path: string): string {
  return `file:${normalize(path).split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The path a `file:` URL names, read as libSQL reads it (`file:rel.db`,
 * `file:/abs.db`, `file:///abs.db`, `file://localhost/abs.db`, percent-decoded,
 * without query), so the directory created for it is the one libSQL opens.
 */
export function fileUrlPath(url: string): string {
  const match = /^file:(?:\/\/[^/?#]*)?([^?#]*)/i.exec(url);
  const path = match?.[1] ?? '';
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // libSQL rejects the URL when it opens it, with its own message
  }
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
