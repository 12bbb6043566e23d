import { EventSource } from 'eventsource';
import { UserFacingError } from '#shared/errors.ts';
import type { StoredEvent } from '#shared/events/event-store.ts';
import { EVENT_TYPES } from '#shared/events/types.ts';
import { redactUrl, redactUrlsIn } from '#shared/redact.ts';
import type { CliIO } from '../io.ts';

export const DEFAULT_HOST_URL = 'http://127.0.0.1:8000';

export interface FollowOptions {
  /** The host, `http://127.0.0.1:8000`; the stream is its `/api/events/stream`. */
  baseUrl: string;
  /** The stream's filters (`workflow`, `run_id`, `event_type`, `after`). */
  query: Record<string, string | undefined>;
  /** Sent as X-API-Key (a host with `auth.protect_reads`). */
  apiKey?: string | undefined;
  io: CliIO;
  /** Each event as it comes; `true` ends the following. */
  onEvent(event: StoredEvent): boolean | undefined;
  /** Ends the following (Ctrl-C). */
  signal: AbortSignal;
}

/** The stream's URL; a base URL that is not http(s) is the user's mistake, said as such. */
export function streamUrl(baseUrl: string, query: FollowOptions['query']): URL {
  let url: URL;
  try {
    url = new URL('/api/events/stream', baseUrl);
  } catch {
    throw new UserFacingError(`--url: not a URL: "${redactUrl(baseUrl)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UserFacingError(`--url: expected an http(s) URL, got "${redactUrl(baseUrl)}"`);
  for (const [name, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/**
 * Follows a host's event stream (SPEC §13) with the `eventsource` client:
 * when the connection drops it reconnects by itself, sending `Last-Event-ID`,
 * so the host replays what was stored meanwhile. A refusal (401, 403, 503 at
 * the cap, anything but a stream) ends it with the host's own message.
 * Resolves when `onEvent` says so or `signal` aborts.
 */
export function followEvents(options: FollowOptions): Promise<void> {
  const url = streamUrl(options.baseUrl, options.query);
  const shown = redactUrl(options.baseUrl);
  const { stderr } = options.io;
  return new Promise<void>((resolve, reject) => {
    /** Why the host refused the stream, from its JSON answer. */
    let refusal: string | undefined;
    let lost = false;
    const source = new EventSource(url, {
      fetch: async (input, init) => {
        const response = await fetch(input, {
          ...init,
          headers: { ...init.headers, ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) },
        });
        if (response.status !== 200) refusal = await describeRefusal(response);
        return response;
      },
    });
    const finish = (error?: Error) => {
      source.close();
      options.signal.removeEventListener('abort', stop);
      if (error) reject(error);
      else resolve();
    };
    const stop = () => finish();
    options.signal.addEventListener('abort', stop, { once: true });
    for (const type of EVENT_TYPES)
      source.addEventListener(type, (message) => {
        if (options.onEvent(JSON.parse(String(message.data)) as StoredEvent) === true) finish();
      });
    source.onopen = () => {
      if (lost) stderr.write(`reconnected to ${shown}\n`);
      lost = false;
    };
    source.onerror = (error) => {
      if (source.readyState === source.CLOSED) {
        finish(
          new UserFacingError(
            `${shown}: ${refusal ?? redactUrlsIn(error.message ?? 'the stream was refused')}`,
          ),
        );
        return;
      }
      if (!lost)
        stderr.write(
          `the connection to ${shown} was lost (${redactUrlsIn(error.message ?? 'closed')}); reconnecting…\n`,
        );
      lost = true;
    };
  });
}

/** `HTTP 401: <the host's message>`. */
async function describeRefusal(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message: string | undefined;
  try {
    message = (JSON.parse(text) as { message?: unknown }).message as string | undefined;
  } catch {}
  return `HTTP ${response.status}${typeof message === 'string' ? `: ${message}` : ''}`;
}
