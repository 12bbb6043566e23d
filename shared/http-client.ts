import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * Kept-alive connections for the calls Aegis makes (QA services, webhook
 * receivers, health checks). node:http rather than fetch: a run makes a
 * dozen calls, and undici's fetch allocates about three times as much per
 * call, which is what made the host's heap grow under load (bench/README.md).
 */
const AGENTS = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
} as const;

export interface ClientRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the request, also while its body is being read. */
  signal?: AbortSignal | undefined;
}

/** An answer whose body has not been read yet: read it, or discard it. Redirects are never followed. */
export interface ClientResponse {
  status: number;
  ok: boolean;
  headers: IncomingHttpHeaders;
  header(name: string): string | null;
  text(): Promise<string>;
  discard(): void;
}

/** Sends one request; rejects with Node's own error (`code` ECONNREFUSED, ENOTFOUND, ABORT_ERR …) on transport failure. */
export function send(
  url: string,
  { method = 'GET', headers = {}, body, signal }: ClientRequest = {},
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const agent = target.protocol === 'https:' ? AGENTS['https:'] : AGENTS['http:'];
    const outgoing = request(
      target,
      {
        method,
        agent,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(signal ? { signal } : {}),
      },
      (response) => resolve(wrap(response)),
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function wrap(response: IncomingMessage): ClientResponse {
  const status = response.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: response.headers,
    header: (name) => {
      const value = response.headers[name.toLowerCase()];
      return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
    },
    text: () =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        // A connection that breaks off mid-body closes without 'end'.
        response.on('close', () => {
          if (!response.complete)
            reject(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
        });
      }),
    discard: () => {
      response.on('error', () => {});
      response.resume();
    },
  };
}
