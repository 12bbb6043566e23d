import type { RouteDefinition } from './route.ts';

/** One answer that depends on the configuration alone, as the bytes sent. */
export interface PrebuiltAnswer {
  route: RouteDefinition;
  bytes: Buffer;
}

/** A bound, so that odd URLs (query strings, trailing slashes) cannot pile up. */
const MAX_ANSWERS = 256;

/**
 * The answers of `configOnly` routes, by request URL: built once, on the
 * first request, by the route itself, then served as the same bytes. The
 * host's front door (local-host/host/answer-first.ts) serves them ahead of
 * Express; on Lambda each function's router serves them.
 */
export class PrebuiltAnswers {
  readonly #byUrl = new Map<string, PrebuiltAnswer>();

  get(url: string): PrebuiltAnswer | undefined {
    return this.#byUrl.get(url);
  }

  remember(url: string, route: RouteDefinition, bytes: Buffer): void {
    if (this.#byUrl.size < MAX_ANSWERS) this.#byUrl.set(url, { route, bytes });
  }
}
