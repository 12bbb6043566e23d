import type { InStatement, InValue } from '@libsql/client';

const NAMED_PARAMETER = /[:@$]([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * A statement with only the named arguments its SQL uses. The local client
 * ignores extra ones, but a libSQL server (sqld, Turso) refuses the whole
 * request ("too many parameters"), so statements that share an argument set
 * go through here.
 */
export function statement(sql: string, args: Readonly<Record<string, InValue>>): InStatement {
  const used = new Set(Array.from(sql.matchAll(NAMED_PARAMETER), (match) => match[1]));
  return { sql, args: Object.fromEntries(Object.entries(args).filter(([name]) => used.has(name))) };
}
