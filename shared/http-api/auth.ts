import { createHash, timingSafeEqual } from 'node:crypto';
import type { AegisConfig } from '../config/schema.ts';
import { UnauthorizedError } from '../errors.ts';

// Interim: the single `auth.api_key` as the key named `default` with every scope.

export const SCOPES = ['read', 'run', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
/** What a route needs: a scope, or nothing at all (`public`). */
export type RouteAccess = Scope | 'public';

export interface ApiKeyIdentity {
  name: string;
  scopes: readonly Scope[];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class ApiKeys {
  readonly #keys: { identity: ApiKeyIdentity; digest: Buffer }[];

  constructor(keys: readonly { name: string; key: string; scopes: readonly Scope[] }[]) {
    this.#keys = keys.map(({ name, key, scopes }) => ({
      identity: { name, scopes },
      digest: digest(key),
    }));
  }

  static fromConfig(auth: AegisConfig['auth']): ApiKeys {
    return new ApiKeys(
      auth.api_key === '' ? [] : [{ name: 'default', key: auth.api_key, scopes: SCOPES }],
    );
  }

  get enabled(): boolean {
    return this.#keys.length > 0;
  }

  get protectReads(): boolean {
    return false;
  }

  identify(sent: string | undefined): ApiKeyIdentity | null {
    if (sent === undefined) return null;
    const sentDigest = digest(sent);
    let found: ApiKeyIdentity | null = null;
    for (const key of this.#keys) if (timingSafeEqual(sentDigest, key.digest)) found = key.identity;
    return found;
  }

  authorize(sent: string | undefined, access: RouteAccess, method: string): ApiKeyIdentity | null {
    if (!this.enabled || access === 'public') return null;
    if (access === 'read' && method !== 'POST' && !this.protectReads) return this.identify(sent);
    if (sent === undefined) throw new UnauthorizedError('missing X-API-Key header');
    const identity = this.identify(sent);
    if (!identity) throw new UnauthorizedError('invalid X-API-Key');
    return identity;
  }
}
