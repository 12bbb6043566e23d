import { join } from 'node:path';
import { LibsqlBatchError, LibsqlError } from '@libsql/client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '#test/support/temp.ts';
import { NativeFileClient } from './native-file-client.ts';

function client(): NativeFileClient {
  const db = new NativeFileClient(join(tempDir(), 'h.db'), { busyTimeoutMs: 100 });
  onTestFinished(() => db.close());
  return db;
}

describe('NativeFileClient: the history file through the libsql driver', () => {
  it('takes positional and named arguments (with or without their prefix), booleans and nulls', async () => {
    const db = client();
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, flag INTEGER, note TEXT)');
    const first = await db.execute({
      sql: 'INSERT INTO t (v, flag, note) VALUES (?, ?, ?)',
      args: ['a', true, null],
    });
    await db.execute({
      sql: 'INSERT INTO t (v, flag) VALUES (:v, $flag)',
      args: { ':v': 'b', flag: false },
    });

    const rows = await db.execute('SELECT id, v, flag, note FROM t ORDER BY id');

    expect(first).toMatchObject({ rowsAffected: 1, lastInsertRowid: 1n });
    expect(rows.columns).toEqual(['id', 'v', 'flag', 'note']);
    expect(rows.rows).toEqual([
      { id: 1, v: 'a', flag: 1, note: null },
      { id: 2, v: 'b', flag: 0, note: null },
    ]);
  });

  it('runs a batch as one transaction: a failing statement rolls back those before it', async () => {
    const db = client();
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
    const failing = db.batch(
      [
        { sql: 'INSERT INTO t (v) VALUES (?)', args: ['kept?'] },
        { sql: 'INSERT INTO t (v) VALUES (?)', args: ['twice'] },
        { sql: 'INSERT INTO t (v) VALUES (?)', args: ['twice'] },
      ],
      'write',
    );

    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibsqlBatchError);
    expect(error).toMatchObject({ statementIndex: 2, code: 'SQLITE_CONSTRAINT' });
    expect((await db.execute('SELECT count(*) AS n FROM t')).rows[0]).toEqual({ n: 0 });
    const results = await db.batch(['INSERT INTO t (v) VALUES (1)', 'SELECT v FROM t'], 'write');
    expect(results[1]?.rows).toEqual([{ v: '1' }]);
  });

  it('returns the rows of UPDATE … RETURNING, and keeps each statement prepared once', async () => {
    const db = client();
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    for (let i = 0; i < 50; i++)
      await db.execute({ sql: 'INSERT INTO t (v) VALUES (?)', args: [`v${i}`] });

    const updated = await db.execute("UPDATE t SET v = 'x' WHERE id <= 3 RETURNING id");

    expect(updated.rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(db.preparedStatements).toBe(3);
  });

  it("reports errors as the libSQL client does, with SQLite's code", async () => {
    const db = client();
    const error = await db.execute('SELECT * FROM nowhere').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibsqlError);
    expect(error).toMatchObject({
      code: 'SQLITE_ERROR',
      message: expect.stringMatching(/no such table/),
    });
    await expect(db.transaction()).rejects.toMatchObject({ code: 'TRANSACTION_UNSUPPORTED' });
    db.close();
    expect(db.closed).toBe(true);
    await expect(db.execute('SELECT 1')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
