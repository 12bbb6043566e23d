import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type AuthConfig, SCOPES, type Scope } from '../config/schema.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

export { SCOPES, type Scope };

/** What a route needs: a scope, or nothing at all (`/health`, `/openapi.json`, signed triggers). */
export type RouteAccess = Scope | 'public';

/** The name `auth.api_key` goes by: one key with every scope. */
export const DEFAULT_KEY_NAME = 'default';

/** The header that carries a key; the only place one is read (never a query parameter, which ends up in logs and browser history). */
export const API_KEY_HEADER = 'x-api-key';

/** The key a request sent; an `X-API-Key` sent twice arrives as a list, and counts as no key. */
export function sentApiKey(headers: IncomingHttpHeaders): string | undefined {
  const sent = headers[API_KEY_HEADER];
  return typeof sent === 'string' ? sent : undefined;
}

/** Who a request's key belongs to: its name is what gets logged and recorded as `triggered_by`, never the key. */
export interface ApiKeyIdentity {
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export interface ApiKeyEntry extends ApiKeyIdentity {
  readonly key: string;
}

export interface ApiKeysOptions {
  /** `auth.protect_reads`: GETs that need `read` are checked too. */
  protectReads?: boolean;
  /** Compares two SHA-256 digests; `timingSafeEqual` unless a test counts the comparisons. */
  equal?: (a: Buffer, b: Buffer) => boolean;
}

interface StoredKey {
  identity: ApiKeyIdentity;
  digest: Buffer;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The configured API keys and SPEC §15's rules, built once per configuration.
 * Scopes are taken as listed: `admin` does not imply `read` or `run` (a key
 * that needs several lists them); only `auth.api_key` (the `default` key)
 * carries all three.
 */
export class ApiKeys {
  /** Digests, not keys: a comparison of equal-length digests says nothing about how close a guess came. */
  readonly #keys: readonly StoredKey[];
  readonly #protectReads: boolean;
  readonly #equal: (a: Buffer, b: Buffer) => boolean;

  constructor(entries: readonly ApiKeyEntry[], options: ApiKeysOptions = {}) {
    this.#keys = entries.map(({ name, scopes, key }) => ({
      identity: Object.freeze({ name, scopes: Object.freeze([...scopes]) }),
      digest: sha256(key),
    }));
    this.#protectReads = options.protectReads ?? false;
    this.#equal = options.equal ?? timingSafeEqual;
  }

  /** `auth.api_key` (as `default`, every scope) and `auth.keys`, as validated by the config checks. */
  static fromConfig(auth: AuthConfig, options: Omit<ApiKeysOptions, 'protectReads'> = {}): ApiKeys {
    const entries: ApiKeyEntry[] = [];
    if (auth.api_key !== '')
      entries.push({ name: DEFAULT_KEY_NAME, key: auth.api_key, scopes: SCOPES });
    entries.push(...auth.keys);
    return new ApiKeys(entries, { ...options, protectReads: auth.protect_reads });
  }

  /** Any key is configured: without one, nothing is checked. */
  get enabled(): boolean {
    return this.#keys.length > 0;
  }

  get protectReads(): boolean {
    return this.#protectReads;
  }

  /**
   * The key a request sent, compared with every configured key in constant
   * time: each digest is compared, with no early exit, so the time taken says
   * neither whether nor which key matched.
   */
  identify(sent: string | undefined): ApiKeyIdentity | null {
    if (sent === undefined) return null;
    const digest = sha256(sent);
    let found: ApiKeyIdentity | null = null;
    for (const key of this.#keys) {
      const same = this.#equal(digest, key.digest);
      found = same ? key.identity : found;
    }
    return found;
  }

  /**
   * SPEC §15 for one request: null when nothing is checked (no key configured,
   * a public route, a read while reads are open), the caller's identity when
   * its key holds the scope; otherwise throws 401 (missing or unknown key) or
   * 403 (known key without the scope). `sent` is the `X-API-Key` header only.
   */
  authorize(sent: string | undefined, access: RouteAccess, method: string): ApiKeyIdentity | null {
    if (!this.enabled || access === 'public') return null;
    if (access === 'read' && !this.#protectReads && READ_METHODS.has(method.toUpperCase()))
      return null;
    if (sent === undefined) throw new UnauthorizedError('missing X-API-Key header');
    const identity = this.identify(sent);
    if (identity === null) throw new UnauthorizedError('invalid X-API-Key');
    if (!identity.scopes.includes(access))
      throw new ForbiddenError(`key '${identity.name}' lacks scope '${access}'`);
    return identity;
  }
}
