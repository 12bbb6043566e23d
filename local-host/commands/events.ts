import type { Command } from 'commander';
import { readEnv } from '#shared/env.ts';
import { UserFacingError } from '#shared/errors.ts';
import type { EventFilter, StoredEvent } from '#shared/events/event-store.ts';
import { EVENT_TYPES } from '#shared/events/types.ts';
import { send } from '#shared/http-client.ts';
import { redactUrl } from '#shared/redact.ts';
import { describeTransportError } from '#shared/services/http.ts';
import { paintFor } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandContext, loadForCommand } from './common.ts';
import { DEFAULT_HOST_URL, followEvents, streamUrl } from './event-follow.ts';
import { eventLine, type PrintableEvent } from './event-lines.ts';
import { oneOf, wholeNumber } from './options.ts';

/** The variable whose key `aegis events` sends to a host as X-API-Key (the one `auth.api_key` is usually read from). */
export const API_KEY_VARIABLE = 'AEGIS_API_KEY';

interface EventsOptions extends ConfigOption {
  follow?: boolean;
  url?: string;
  workflow?: string;
  run?: string;
  eventType?: string;
  limit?: string;
  json?: boolean;
}

/** The stream's (and `/api/events`') query parameters for a filter. */
export function filterQuery(filter: EventFilter): Record<string, string | undefined> {
  return { workflow: filter.workflow, run_id: filter.runId, event_type: filter.eventType };
}

/** Prints events as lines, readable or JSON Lines. */
export function eventPrinter(io: CliIO, json: boolean): (event: PrintableEvent) => void {
  const paint = paintFor(io.stdout, io.env);
  return (event) => void io.stdout.write(`${eventLine(event, paint, json)}\n`);
}

/** Until SIGINT or SIGTERM (Ctrl-C), as an AbortSignal; `release` stops listening. */
export function untilInterrupted(signals: NodeJS.EventEmitter): {
  signal: AbortSignal;
  release(): void;
} {
  const controller = new AbortController();
  const stop = () => controller.abort();
  signals.once('SIGINT', stop);
  signals.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
    },
  };
}

export async function eventsCommand(
  io: CliIO,
  options: EventsOptions,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const filter: EventFilter = {
    eventType: oneOf('--event-type', options.eventType, EVENT_TYPES),
    workflow: options.workflow,
    runId: options.run,
  };
  const print = eventPrinter(io, options.json === true);
  if (options.follow) {
    const interrupted = untilInterrupted(signals);
    try {
      await followEvents({
        baseUrl: options.url ?? DEFAULT_HOST_URL,
        query: filterQuery(filter),
        apiKey: readEnv(io.env, API_KEY_VARIABLE),
        io,
        signal: interrupted.signal,
        onEvent: (event) => {
          print(event);
          return undefined;
        },
      });
    } finally {
      interrupted.release();
    }
    return EXIT.ok;
  }
  const limit = wholeNumber('--limit', options.limit, { min: 1, max: 1000, fallback: 20 });
  const newestFirst = options.url
    ? await eventsFromHost(io, options.url, filter, limit)
    : await eventsFromDatabase(io, options, filter, limit);
  if (newestFirst.length === 0 && !options.json) io.stdout.write('No events recorded (yet).\n');
  // Oldest first, as a log reads and as --follow goes on.
  for (const event of newestFirst.toReversed()) print(event);
  return EXIT.ok;
}

async function eventsFromDatabase(
  io: CliIO,
  options: ConfigOption,
  filter: EventFilter,
  limit: number,
): Promise<StoredEvent[]> {
  const context = commandContext(io, loadForCommand(io, options.config));
  try {
    return await (await context.stores()).events.list({ limit, ...filter });
  } finally {
    await context.close();
  }
}

async function eventsFromHost(
  io: CliIO,
  baseUrl: string,
  filter: EventFilter,
  limit: number,
): Promise<StoredEvent[]> {
  const url = streamUrl(baseUrl, { ...filterQuery(filter), limit: String(limit) });
  url.pathname = '/api/events';
  const apiKey = readEnv(io.env, API_KEY_VARIABLE);
  const shown = redactUrl(baseUrl);
  let text: string;
  let status: number;
  try {
    const response = await send(url.href, {
      headers: { accept: 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new UserFacingError(`${shown}: ${describeTransportError(error)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UserFacingError(`${shown}: HTTP ${status}, and the answer is not JSON`);
  }
  if (status !== 200) {
    const message = (body as { message?: unknown } | null)?.message;
    throw new UserFacingError(
      `${shown}: HTTP ${status}${typeof message === 'string' ? `: ${message}` : ''}`,
    );
  }
  if (!Array.isArray(body))
    throw new UserFacingError(`${shown}: the answer is not a list of events`);
  return body as StoredEvent[];
}

export function registerEvents(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('events')
    .description('print the newest lifecycle events, or follow them live from a host')
    .option(
      '--config <file>',
      'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml); not used with --url or --follow',
    )
    .option(
      '--follow',
      `follow the host's live stream (GET /api/events/stream) and print each event as it comes, until Ctrl-C`,
    )
    .option(
      '--url <url>',
      `the host to ask (default for --follow: ${DEFAULT_HOST_URL}); without --follow, read its /api/events instead of the database`,
    )
    .option('--workflow <key>', "only this workflow's events")
    .option('--run <run_id>', "only this run's events")
    .option('--event-type <type>', `only events of this type (${EVENT_TYPES.join(', ')})`)
    .option('--limit <n>', 'without --follow: how many of the newest events (1-1000, default 20)')
    .option('--json', 'print each event as one JSON object per line (as GET /api/events gives it)')
    .addHelpText(
      'after',
      `
Without --follow, the newest events are read from the database (no host
needed) or, with --url, from that host's API; they are printed oldest first.
With --follow, the events are streamed from the host at --url; when the
connection drops, it reconnects and the host replays what was stored
meanwhile (Last-Event-ID), so nothing still in the event log is missed.
A host with auth.protect_reads needs a key with the read scope: set
$${API_KEY_VARIABLE}, which is sent as X-API-Key.`,
    )
    .action(async (options: EventsOptions) => setExit(await eventsCommand(io, options)));
}
