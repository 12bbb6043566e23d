import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AegisContext } from '#shared/context.ts';
import { BadRequestError, errorMessage } from '#shared/errors.ts';
import type { EventFilter } from '#shared/events/event-store.ts';
import { EVENT_TYPES } from '#shared/events/types.ts';
import { integerParam, oneOfParam } from '#shared/http-api/params.ts';
import { defineRoute, reply, streamReply } from '#shared/http-api/route.ts';
import { ERROR_RESPONSES, errorSchema } from '#shared/http-api/schemas.ts';

export const EVENT_STREAM_PATH = '/api/events/stream';
/** What the stream tells EventSource clients to wait before reconnecting. */
const RECONNECT_MS = 1_000;
/** A client this far behind (its socket not draining) is cut off; it reconnects with Last-Event-ID and replays. */
const MAX_BUFFERED_BYTES = 1_048_576;
const EVENT_ID = /^\d{1,15}$/;

/** The `Last-Event-ID` header (what EventSource sends when it reconnects); null when absent. */
export function lastEventIdOf(req: Request): number | null {
  const sent = req.headers['last-event-id'];
  if (sent === undefined || sent === '') return null;
  if (typeof sent !== 'string' || !EVENT_ID.test(sent.trim()))
    throw new BadRequestError(
      `header Last-Event-ID: must be an event id (decimal digits, as the stream's "id:" lines give), got "${String(sent).slice(0, 40)}"`,
    );
  return Number(sent.trim());
}

/**
 * `GET /api/events/stream` (SPEC §13): Server-Sent Events. Each event
 * stored from the moment the stream opens is one message, `id: <event id>`,
 * `event: <event_type>`, `data: <the event as GET /api/events gives it>`; a
 * `Last-Event-ID` header (or `?after=`) first replays the stored events after
 * that id. A comment line every 15 s (`AEGIS_EVENT_STREAM_HEARTBEAT_S`) keeps
 * proxies from closing it. It ends when the client goes, or when the host stops.
 */
export const eventStreamRoute = defineRoute({
  method: 'get',
  path: EVENT_STREAM_PATH,
  access: 'read',
  tag: 'events',
  summary: 'Live lifecycle events (Server-Sent Events), optionally replayed from an id',
  description: `A \`text/event-stream\`: each event stored from now on as \`id: <event id>\`, \`event: <event_type>\` and
\`data: <the event's JSON, as GET /api/events gives it>\`. \`Last-Event-ID\` (sent by EventSource when it reconnects) or
\`?after=<id>\` first replays the stored events after that id, so a client that reconnects misses nothing still in the log
(the log keeps \`event_log_size\` events). Events stored by other processes on the same database arrive within a second.
A comment line (\`: keep-alive\`) comes every 15 s. One process holds at most \`AEGIS_EVENT_STREAMS_MAX\` streams (100); one
more is a 503. Not available on Lambda: API Gateway buffers a whole answer (501).`,
  headers: {
    'Last-Event-ID':
      'Replay the stored events after this id first (wins over ?after=); EventSource sends it when it reconnects',
  },
  query: z.strictObject({
    workflow: z.string().min(1).optional().describe("Only this workflow's events"),
    run_id: z.string().min(1).optional().describe("Only this run's events"),
    event_type: oneOfParam(EVENT_TYPES).optional().describe('Only events of this type'),
    after: integerParam({ min: 0 })
      .optional()
      .describe('Replay the stored events after this id first'),
  }),
  responses: {
    200: {
      description: 'The stream: one message per event, comment lines between.',
      contentType: 'text/event-stream',
    },
    501: {
      description: 'On Lambda: API Gateway cannot stream an answer; poll GET /api/events instead.',
      schema: errorSchema,
    },
    503: {
      description:
        'The history database is not available, or this process holds as many streams as it may (AEGIS_EVENT_STREAMS_MAX).',
      schema: ERROR_RESPONSES[503].schema,
    },
  },
  handle: async ({ query }, context, req) => {
    // serverless-http (Lambda, `aegis invoke`) hands the whole answer over only when it ends, and a stream never does.
    if ('apiGateway' in req)
      return reply(501, {
        error: 'not_implemented',
        message: `${EVENT_STREAM_PATH} needs a long-lived connection, which API Gateway HTTP API and Lambda cannot hold: poll GET /api/events (with ?limit=) instead, or run the local host (aegis serve)`,
      });
    const after = lastEventIdOf(req) ?? query.after ?? null;
    await context.stores(); // a database that cannot be opened is a 503 now, not a stream that ends at once
    const filter: EventFilter = {
      eventType: query.event_type,
      workflow: query.workflow,
      runId: query.run_id,
    };
    return streamReply((_req, res) => openStream(context, res, filter, after));
  },
});

/** Checks the cap and subscribes in one synchronous step, so concurrent requests cannot both take the last place. */
function openStream(
  context: AegisContext,
  res: Response,
  filter: EventFilter,
  after: number | null,
): void {
  const feed = context.eventFeed;
  if (feed.size >= feed.maxStreams) {
    res
      .status(503)
      .set('retry-after', '5')
      .json({
        error: 'service_unavailable',
        message: `too many open event streams: this process holds at most ${feed.maxStreams} (AEGIS_EVENT_STREAMS_MAX); try again later, or poll GET /api/events`,
      });
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // nginx and similar proxies would otherwise hold the messages back.
    'x-accel-buffering': 'no',
  });
  if (res.req.method === 'HEAD') {
    res.end(); // the headers only: a HEAD answer has no body to stream
    return;
  }
  // Sends the headers at once, so the client knows the stream is open before the first event.
  res.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);

  let ended = false;
  const write = (chunk: string | Buffer) => {
    if (ended || res.destroyed) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      context.logger.warn('event stream: the client does not keep up; closing its stream', {
        request_id: res.req.requestId,
      });
      end();
    }
  };
  const subscription = feed.subscribe({
    filter,
    after,
    deliver: ({ frames }) => write(frames),
    fail: (error) => {
      context.logger.warn('event stream: replaying stored events failed; closing the stream', {
        request_id: res.req.requestId,
        error: errorMessage(error),
      });
      end();
    },
  });
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), feed.heartbeatMs);
  heartbeat.unref();
  const stopOnShutdown = context.signals.on('shuttingDown', () => end());
  function stop(): void {
    if (ended) return;
    ended = true;
    subscription.close();
    clearInterval(heartbeat);
    stopOnShutdown();
  }
  function end(): void {
    stop();
    if (!res.writableEnded) res.end();
  }
  res.once('close', end);
}
