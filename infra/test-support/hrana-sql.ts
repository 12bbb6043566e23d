/**
 * What sqld learns from its own SQL parser before SQLite sees a statement,
 * and the test server needs too: how many statements a text holds (sqld
 * refuses more than one per `execute`), which parameters a statement takes
 * (sqld binds them itself and refuses a missing or extra argument, where
 * SQLite would bind NULL), and whether it is an INSERT/UPDATE/DELETE (the
 * only statements whose `affected_row_count` and `last_insert_rowid` sqld
 * reports). A tokenizer, not a parser: strings, quoted names and comments are
 * skipped; syntax errors are left to SQLite.
 */

export interface SqlStatement {
  text: string;
  /** INSERT, REPLACE, UPDATE or DELETE (after any WITH clause). */
  changesRows: boolean;
  /** INSERT or REPLACE. */
  inserts: boolean;
  /** Index i (from 1) holds parameter i's name: `:a`, `?3`, or null for a bare `?`. */
  parameters: (string | null)[];
}

type Token =
  | { kind: 'word'; upper: string }
  | { kind: 'param'; text: string }
  | { kind: 'semicolon' }
  | { kind: 'open' }
  | { kind: 'close' }
  | { kind: 'other' };

interface Lexed {
  token: Token;
  start: number;
  end: number;
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NAMED_PARAM = /[:@$][A-Za-z0-9_\u0080-\uffff]+(?:::[A-Za-z0-9_\u0080-\uffff]+)*/y;
const NUMBERED_PARAM = /\?[0-9]*/y;

function* tokens(sql: string): Generator<Lexed> {
  let i = 0;
  const at = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    return pattern.exec(sql)?.[0];
  };
  while (i < sql.length) {
    const start = i;
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      continue;
    }
    if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    const closer = c === "'" ? "'" : c === '"' ? '"' : c === '`' ? '`' : c === '[' ? ']' : null;
    if (closer) {
      i = quotedEnd(sql, i + 1, closer);
      yield { token: c === "'" ? { kind: 'other' } : { kind: 'word', upper: '' }, start, end: i };
      continue;
    }
    const param = c === '?' ? at(NUMBERED_PARAM) : '$:@'.includes(c) ? at(NAMED_PARAM) : undefined;
    if (param) {
      i += param.length;
      yield { token: { kind: 'param', text: param }, start, end: i };
      continue;
    }
    const word = at(WORD);
    if (word) {
      i += word.length;
      yield { token: { kind: 'word', upper: word.toUpperCase() }, start, end: i };
      continue;
    }
    i += 1;
    const token: Token =
      c === ';'
        ? { kind: 'semicolon' }
        : c === '('
          ? { kind: 'open' }
          : c === ')'
            ? { kind: 'close' }
            : { kind: 'other' };
    yield { token, start, end: i };
  }
}

/** Where a quoted string or name ends; a doubled quote character stays inside it. */
function quotedEnd(sql: string, from: number, closer: string): number {
  let i = from;
  for (;;) {
    const end = sql.indexOf(closer, i);
    if (end < 0) return sql.length;
    if (closer !== ']' && sql[end + 1] === closer) {
      i = end + 2;
      continue;
    }
    return end + 1;
  }
}

/** The statements of a text, as sqld splits it (empty ones between semicolons dropped). */
export function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current: Lexed[] = [];
  const finish = () => {
    if (current.length > 0) statements.push(describe(sql, current));
    current = [];
  };
  for (const lexed of tokens(sql)) {
    if (lexed.token.kind === 'semicolon' && !insideTriggerBody(current)) {
      finish();
      continue;
    }
    current.push(lexed);
  }
  finish();
  return statements;
}

/**
 * A CREATE TRIGGER's body holds semicolons; as in sqlite3_complete(), only
 * one right after its END ends the statement.
 */
function insideTriggerBody(statement: Lexed[]): boolean {
  const words = statement
    .slice(0, 3)
    .map(({ token }) => (token.kind === 'word' ? token.upper : ''));
  const isTrigger =
    words[0] === 'CREATE' &&
    (words[1] === 'TRIGGER' ||
      ((words[1] === 'TEMP' || words[1] === 'TEMPORARY') && words[2] === 'TRIGGER'));
  if (!isTrigger) return false;
  const last = statement.at(-1)?.token;
  return !(last?.kind === 'word' && last.upper === 'END');
}

function describe(sql: string, lexed: Lexed[]): SqlStatement {
  const verb = leadingVerb(lexed.map(({ token }) => token));
  return {
    text: sql.slice(lexed[0]?.start ?? 0, lexed.at(-1)?.end ?? 0),
    changesRows: ['INSERT', 'REPLACE', 'UPDATE', 'DELETE'].includes(verb),
    inserts: verb === 'INSERT' || verb === 'REPLACE',
    parameters: parameterNames(lexed.map(({ token }) => token)),
  };
}

/** The statement's first keyword; after WITH, the first one outside the parentheses of its CTEs. */
function leadingVerb(statement: Token[]): string {
  const first = statement[0];
  if (first?.kind !== 'word') return '';
  if (first.upper !== 'WITH') return first.upper;
  let depth = 0;
  for (const token of statement.slice(1)) {
    if (token.kind === 'open') depth += 1;
    else if (token.kind === 'close') depth -= 1;
    else if (
      depth === 0 &&
      token.kind === 'word' &&
      ['SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE'].includes(token.upper)
    )
      return token.upper;
  }
  return '';
}

/**
 * SQLite's numbering: `?` takes the next index, `?N` index N, a name the
 * index it got where it first appeared (or the next one).
 */
function parameterNames(statement: Token[]): (string | null)[] {
  const names: (string | null)[] = [];
  const byName = new Map<string, number>();
  for (const token of statement) {
    if (token.kind !== 'param') continue;
    if (token.text === '?') {
      names.push(null);
    } else if (token.text.startsWith('?')) {
      const index = Number(token.text.slice(1));
      while (names.length < index) names.push(null);
      names[index - 1] = token.text;
    } else if (!byName.has(token.text)) {
      names.push(token.text);
      byName.set(token.text, names.length);
    }
  }
  return names;
}
