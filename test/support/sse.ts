import { EventSource } from 'eventsource';
import { onTestFinished } from 'vitest';
import type { StoredEvent } from '#shared/events/event-store.ts';
import { EVENT_TYPES } from '#shared/events/types.ts';

/** One message as an EventSource client received it. */
export interface ReceivedMessage {
  /** The `id:` line. */
  id: string;
  /** The `event:` line. */
  type: string;
  /** The `data:` line, parsed. */
  data: StoredEvent;
  /** `Date.now()` when it arrived (comparable with the event's timestamp, also across processes). */
  at: number;
}

export interface StreamClient {
  messages: ReceivedMessage[];
  /** Resolves once the stream is open (200, text/event-stream). */
  opened: Promise<void>;
  /** Resolves with the status when the server refuses the stream (EventSource then gives up). */
  refused: Promise<number | undefined>;
  /** The first `count` messages, once they have come; fails after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  close(): void;
}

/**
 * A real Server-Sent Events client (the `eventsource` package, WHATWG's
 * EventSource for Node) on a URL; closed when the test ends. It reconnects
 * by itself with Last-Event-ID, as a browser does.
 */
export function streamClient(url: string, headers: Record<string, string> = {}): StreamClient {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
  });
  onTestFinished(() => source.close());
  const opened = new Promise<void>((resolve) => source.addEventListener('open', () => resolve()));
  const refused = new Promise<number | undefined>((resolve) =>
    source.addEventListener('error', (error) => {
      if (source.readyState === source.CLOSED) resolve(error.code);
    }),
  );
  for (const type of EVENT_TYPES)
    source.addEventListener(type, (message) => {
      messages.push({
        id: message.lastEventId,
        type: message.type,
        data: JSON.parse(String(message.data)) as StoredEvent,
        at: Date.now(),
      });
      for (const wake of waiters) wake();
    });
  return {
    messages,
    opened,
    refused,
    waitFor: (count, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages.slice(0, count));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms with ${messages.length} of ${count} messages: ${messages.map((m) => m.type).join(', ')}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: () => source.close(),
  };
}

/** The raw text of a stream for `ms` (comment lines included, which EventSource hides). */
export async function rawStream(
  url: string,
  ms: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | null; text: string }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  let text = '';
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const decoder = new TextDecoder();
    for await (const chunk of response.body ?? []) text += decoder.decode(chunk as Uint8Array);
  } catch {
    // aborted: the time is up
  } finally {
    clearTimeout(timer);
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text };
}
