import { timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/schema.ts';
import { ForbiddenError, HttpError, UnauthorizedError } from '../errors.ts';
import { ApiKeys, type ApiKeysOptions, type RouteAccess } from './auth.ts';

const AUTH = {
  api_key: 'key-default-0000',
  protect_reads: false,
  keys: [
    { name: 'dashboard', key: 'key-reader-1111', scopes: ['read' as const] },
    { name: 'ci', key: 'key-runner-2222', scopes: ['run' as const] },
    { name: 'ops', key: 'key-admin-3333', scopes: ['admin' as const] },
    { name: 'bot', key: 'key-readrun-4444', scopes: ['read' as const, 'run' as const] },
  ],
};

/** What `authorize` did: the name of the key it let through, null (not checked), or `status code: message`. */
function outcome(keys: ApiKeys, sent: string | undefined, access: RouteAccess, method: string) {
  try {
    return keys.authorize(sent, access, method)?.name ?? null;
  } catch (error) {
    if (error instanceof HttpError) return `${error.statusCode} ${error.code}: ${error.message}`;
    throw error;
  }
}

describe('ApiKeys', () => {
  describe('identify', () => {
    const keys = ApiKeys.fromConfig(AUTH);

    it.each([
      { sent: 'key-default-0000', name: 'default', scopes: ['read', 'run', 'admin'] },
      { sent: 'key-reader-1111', name: 'dashboard', scopes: ['read'] },
      { sent: 'key-runner-2222', name: 'ci', scopes: ['run'] },
      { sent: 'key-admin-3333', name: 'ops', scopes: ['admin'] },
      { sent: 'key-readrun-4444', name: 'bot', scopes: ['read', 'run'] },
    ])('knows $name by its key', ({ sent, name, scopes }) => {
      // Act
      const identity = keys.identify(sent);

      // Assess
      expect(identity).toEqual({ name, scopes });
    });

    it.each([
      { case: 'no key', sent: undefined },
      { case: 'an empty key', sent: '' },
      { case: 'a prefix of a key', sent: 'key-reader-111' },
      { case: 'a key with one more character', sent: 'key-reader-11111' },
      { case: 'a key in another case', sent: 'KEY-READER-1111' },
      { case: 'a key name instead of the key', sent: 'dashboard' },
    ])('knows nobody by $case', ({ sent }) => {
      // Act
      const identity = keys.identify(sent);

      // Assess
      expect(identity).toBeNull();
    });

    it('hands out an identity that a caller cannot change', () => {
      // Act
      const scopes = keys.identify('key-reader-1111')?.scopes as string[];

      // Assess
      expect(() => scopes.push('admin')).toThrow(TypeError);
      expect(keys.identify('key-reader-1111')?.scopes).toEqual(['read']);
    });

    describe('compares the sent key with every key, wherever the match is', () => {
      /** ApiKeys whose comparisons go through the real timingSafeEqual, counted. */
      function counted(options: Omit<ApiKeysOptions, 'equal'> = {}) {
        const counter = { comparisons: 0, lengths: new Set<number>() };
        const equal = (a: Buffer, b: Buffer) => {
          counter.comparisons += 1;
          counter.lengths.add(a.length).add(b.length);
          return timingSafeEqual(a, b);
        };
        return { keys: ApiKeys.fromConfig(AUTH, { ...options, equal }), counter };
      }

      it.each([
        { case: 'the first key', sent: 'key-default-0000', name: 'default' },
        { case: 'a middle key', sent: 'key-runner-2222', name: 'ci' },
        { case: 'the last key', sent: 'key-readrun-4444', name: 'bot' },
        { case: 'no key', sent: 'nearly-key-readrun-4444', name: undefined },
        { case: 'a long guess', sent: 'x'.repeat(10_000), name: undefined },
      ])('$case', ({ sent, name }) => {
        // Prepare
        const { keys, counter } = counted();

        // Act
        const identity = keys.identify(sent);

        // Assess: five keys, five comparisons of 32-byte digests, whatever was sent.
        expect(identity?.name).toBe(name);
        expect(counter.comparisons).toBe(5);
        expect([...counter.lengths]).toEqual([32]);
      });
    });
  });

  describe('authorize (SPEC §15)', () => {
    const open = ApiKeys.fromConfig(AUTH);
    const guarded = ApiKeys.fromConfig({ ...AUTH, protect_reads: true });

    const MISSING = '401 unauthorized: missing X-API-Key header';
    const INVALID = '401 unauthorized: invalid X-API-Key';
    const lacks = (name: string, scope: string) =>
      `403 forbidden: key '${name}' lacks scope '${scope}'`;

    // Every kind of route, with no key, a wrong key and a key of each scope.
    describe.each([
      {
        route: 'a read (GET, read) with reads open',
        keys: open,
        access: 'read',
        method: 'GET',
        expected: {
          none: null,
          wrong: null,
          default: null,
          dashboard: null,
          ci: null,
          ops: null,
          bot: null,
        },
      },
      {
        route: 'a read (GET, read) with protect_reads',
        keys: guarded,
        access: 'read',
        method: 'GET',
        expected: {
          none: MISSING,
          wrong: INVALID,
          default: 'default',
          dashboard: 'dashboard',
          ci: lacks('ci', 'read'),
          ops: lacks('ops', 'read'),
          bot: 'bot',
        },
      },
      {
        route: 'a HEAD of a read with protect_reads',
        keys: guarded,
        access: 'read',
        method: 'head',
        expected: {
          none: MISSING,
          wrong: INVALID,
          default: 'default',
          dashboard: 'dashboard',
          ci: lacks('ci', 'read'),
          ops: lacks('ops', 'read'),
          bot: 'bot',
        },
      },
      {
        route: 'a run (POST, run)',
        keys: open,
        access: 'run',
        method: 'POST',
        expected: {
          none: MISSING,
          wrong: INVALID,
          default: 'default',
          dashboard: lacks('dashboard', 'run'),
          ci: 'ci',
          ops: lacks('ops', 'run'),
          bot: 'bot',
        },
      },
      {
        route: 'a redelivery (POST, admin) with protect_reads',
        keys: guarded,
        access: 'admin',
        method: 'POST',
        expected: {
          none: MISSING,
          wrong: INVALID,
          default: 'default',
          dashboard: lacks('dashboard', 'admin'),
          ci: lacks('ci', 'admin'),
          ops: 'ops',
          bot: lacks('bot', 'admin'),
        },
      },
      {
        route: 'an admin read (GET, admin) with reads open',
        keys: open,
        access: 'admin',
        method: 'GET',
        expected: {
          none: MISSING,
          wrong: INVALID,
          default: 'default',
          dashboard: lacks('dashboard', 'admin'),
          ci: lacks('ci', 'admin'),
          ops: 'ops',
          bot: lacks('bot', 'admin'),
        },
      },
      {
        route: 'a public route (POST, public) with protect_reads',
        keys: guarded,
        access: 'public',
        method: 'POST',
        expected: {
          none: null,
          wrong: null,
          default: null,
          dashboard: null,
          ci: null,
          ops: null,
          bot: null,
        },
      },
    ] as const)('$route', ({ keys, access, method, expected }) => {
      it.each([
        { caller: 'none', sent: undefined },
        { caller: 'wrong', sent: 'not-a-configured-key' },
        { caller: 'default', sent: 'key-default-0000' },
        { caller: 'dashboard', sent: 'key-reader-1111' },
        { caller: 'ci', sent: 'key-runner-2222' },
        { caller: 'ops', sent: 'key-admin-3333' },
        { caller: 'bot', sent: 'key-readrun-4444' },
      ] as const)('key $caller', ({ caller, sent }) => {
        // Act
        const result = outcome(keys, sent, access, method);

        // Assess
        expect(result).toBe(expected[caller]);
      });
    });

    it('checks nothing when no key is configured, even with protect_reads', () => {
      // Prepare
      const keys = ApiKeys.fromConfig({ ...defaultConfig().auth, protect_reads: true });

      // Act
      const results = (['read', 'run', 'admin'] as const).map((access) =>
        outcome(keys, undefined, access, 'POST'),
      );

      // Assess
      expect(keys.enabled).toBe(false);
      expect(results).toEqual([null, null, null]);
    });

    it('throws the HTTP errors the error middleware answers with', () => {
      // Act
      const missing = () => open.authorize(undefined, 'run', 'POST');
      const forbidden = () => open.authorize('key-reader-1111', 'run', 'POST');

      // Assess
      expect(missing).toThrow(UnauthorizedError);
      expect(forbidden).toThrow(ForbiddenError);
      try {
        forbidden();
      } catch (error) {
        expect((error as ForbiddenError).toJSON()).toEqual({
          error: 'forbidden',
          message: "key 'dashboard' lacks scope 'run'",
        });
      }
    });

    it('never names a key value in its errors', () => {
      // Act
      const messages = ['key-reader-1111', 'key-reader-111', 'key-admin-3333'].map((sent) =>
        String(outcome(guarded, sent, 'run', 'POST')),
      );

      // Assess
      for (const message of messages) expect(message).not.toMatch(/key-\w+-\d+/);
    });
  });

  describe('fromConfig', () => {
    it('makes auth.api_key a key named default with every scope', () => {
      // Act
      const keys = ApiKeys.fromConfig({ api_key: 'k', keys: [], protect_reads: false });

      // Assess
      expect(keys.enabled).toBe(true);
      expect(keys.protectReads).toBe(false);
      expect(keys.identify('k')).toEqual({ name: 'default', scopes: ['read', 'run', 'admin'] });
    });

    it('is enabled by auth.keys alone', () => {
      // Act
      const keys = ApiKeys.fromConfig({ ...AUTH, api_key: '', protect_reads: true });

      // Assess
      expect(keys.enabled).toBe(true);
      expect(keys.protectReads).toBe(true);
      expect(keys.identify('key-default-0000')).toBeNull();
      expect(keys.identify('key-admin-3333')?.name).toBe('ops');
    });
  });
});
