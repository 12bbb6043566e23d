import { randomUUID } from 'node:crypto';

/** What both baselines (bare-server.ts, bare-express.ts) receive on their command line. */
export interface BareInput {
  port: number;
  /** A file holding the exact answer to serve. */
  bodyFile?: string;
  /** The one route of the Express baseline. */
  path?: string;
}

/** The headers Aegis sends with a JSON answer (Date, Connection and Keep-Alive come from Node). */
export function aegisHeaders(length: number): Record<string, string | number> {
  return {
    'x-request-id': randomUUID(),
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'X-Request-Id',
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
  };
}
