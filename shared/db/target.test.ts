import { describe, expect, it } from 'vitest';
import { describeTarget, fileUrl, fileUrlPath, resolveDatabaseTarget } from './target.ts';

describe('resolveDatabaseTarget', () => {
  it('uses the history path as a file when AEGIS_DB_URL is unset or empty', () => {
    for (const env of [{}, { AEGIS_DB_URL: '' }]) {
      expect(resolveDatabaseTarget('/data/aegis.db', env)).toEqual({
        kind: 'file',
        path: '/data/aegis.db',
        url: 'file:/data/aegis.db',
      });
    }
  });

  it('lets AEGIS_DB_URL with AEGIS_DB_AUTH_TOKEN win for a server', () => {
    const env = { AEGIS_DB_URL: 'libsql://db.example.test', AEGIS_DB_AUTH_TOKEN: 'tok' };
    expect(resolveDatabaseTarget('/data/aegis.db', env)).toEqual({
      kind: 'remote',
      url: 'libsql://db.example.test',
      authToken: 'tok',
    });
    expect(resolveDatabaseTarget('x', { AEGIS_DB_URL: 'https://h.test' })).toEqual({
      kind: 'remote',
      url: 'https://h.test',
      authToken: undefined,
    });
  });

  it.each([
    ['file:/abs/h.db', '/abs/h.db'],
    ['file:///abs/h.db', '/abs/h.db'],
    ['file://localhost/abs/h.db', '/abs/h.db'],
    ['FILE:/abs/h.db', '/abs/h.db'],
    ['file:relative/h.db', 'relative/h.db'],
    ['file:/abs/with%20space.db', '/abs/with space.db'],
    ['file:/abs/h.db?tls=0', '/abs/h.db'],
    ['file:/abs/bad%zz.db', '/abs/bad%zz.db'],
  ])('reads the AEGIS_DB_URL %s as the file %s, as libSQL does', (url, path) => {
    expect(resolveDatabaseTarget('/ignored.db', { AEGIS_DB_URL: url })).toEqual({
      kind: 'file',
      path,
      url,
    });
  });
});

describe('fileUrl', () => {
  it.each(['/tmp/plain.db', 'relative/dir/h.db', '/tmp/a#b?c%d e.db', '/tmp/ünïcode/h.db'])(
    'encodes %s so that libSQL reads back the same path',
    (path) => {
      expect(fileUrlPath(fileUrl(path))).toBe(path);
    },
  );

  it('collapses a leading double slash, which would read as a host', () => {
    expect(fileUrl('//tmp/h.db')).toBe('file:/tmp/h.db');
  });
});

describe('describeTarget', () => {
  it('prints a file as its path', () => {
    expect(describeTarget(resolveDatabaseTarget('/data/aegis.db', {}))).toBe('/data/aegis.db');
  });

  it('prints a server without credentials or query string', () => {
    const target = resolveDatabaseTarget('x', {
      AEGIS_DB_URL: 'https://user:pw@db.example.test:8443/path?authToken=secret',
    });
    expect(describeTarget(target)).toBe('https://db.example.test:8443/path');
    expect(describeTarget(resolveDatabaseTarget('x', { AEGIS_DB_URL: 'libsql://h.test/' }))).toBe(
      'libsql://h.test',
    );
    expect(describeTarget(resolveDatabaseTarget('x', { AEGIS_DB_URL: 'not a url' }))).toBe(
      '(invalid AEGIS_DB_URL)',
    );
  });
});
