import { describe, expect, it } from 'vitest';
import { splitStatements } from './hrana-sql.ts';

describe('splitStatements (what sqld reads from SQL before SQLite runs it)', () => {
  it('splits on semicolons outside strings, quoted names, comments and trigger bodies', () => {
    // Act
    const statements = splitStatements(`
      SELECT 'a;b', "c;d", [e;f], \`g;h\`; -- one; still a comment
      /* two; */ CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 1; DELETE FROM u;
      END;
      ;;
      INSERT INTO t VALUES ('it''s; fine')`);
    // Assess
    expect(statements.map((s) => s.text.split(/\s+/, 2).join(' '))).toEqual([
      "SELECT 'a;b',",
      'CREATE TRIGGER',
      'INSERT INTO',
    ]);
    expect(statements[1]?.text).toMatch(/END$/);
  });

  it('tells the statements whose row counts sqld reports, also after a WITH clause', () => {
    // Act
    const kinds = splitStatements(
      'INSERT INTO t VALUES (1); REPLACE INTO t VALUES (2); UPDATE t SET x = 1; DELETE FROM t; ' +
        'SELECT 1; CREATE TABLE u (x); WITH a AS (SELECT (1)) INSERT INTO t SELECT * FROM a; ' +
        'WITH a AS (SELECT 1) SELECT * FROM a',
    ).map((s) => [s.changesRows, s.inserts]);
    // Assess
    expect(kinds).toEqual([
      [true, true],
      [true, true],
      [true, false],
      [true, false],
      [false, false],
      [false, false],
      [true, true],
      [false, false],
    ]);
  });

  it("numbers parameters as SQLite does: ?, ?N, and a name's first appearance", () => {
    // Act
    const [statement] = splitStatements("SELECT ?, ?3, :a, ?, @b, :a, '?', $c::d");
    // Assess
    expect(statement?.parameters).toEqual([null, null, '?3', ':a', null, '@b', '$c::d']);
  });
});
