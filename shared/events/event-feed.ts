import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Signals } from '../signals.ts';
import {
  type EventFilter,
  type EventStore,
  eventMatches,
  type StoredEvent,
} from './event-store.ts';

/** How often the feed looks for events other processes stored: they reach a stream within this, well under SPEC §13's 1 s. */
export const DEFAULT_FEED_POLL_MS = 250;
/** Rows read per query: a burst larger than this is read in several. */
const PAGE = 500;
/**
 * Wake-ups this close together share one read: a run stores its events a
 * few ms apart, and each read is then one write per stream instead of one
 * per event and stream.
 */
const GATHER_MS = 10;

/** One event with its Server-Sent Events frame, serialised and encoded once for every stream that gets it. */
export interface FeedEvent {
  event: StoredEvent;
  /** `id: …\nevent: …\ndata: …\n\n`, as UTF-8. */
  frame: Buffer;
}

/** `data` is the event as `GET /api/events` gives it; JSON has no raw newline, so it is one `data:` line. */
export function sseFrame(event: StoredEvent): Buffer {
  return Buffer.from(
    `id: ${event.id}\nevent: ${event.event_type}\ndata: ${JSON.stringify(event)}\n\n`,
  );
}

/** Events for one stream, oldest first, with their frames in one buffer: one write. */
export interface FeedBatch {
  events: readonly StoredEvent[];
  frames: Buffer;
}

export interface SubscribeOptions {
  filter: EventFilter;
  /** Replay the stored events after this id first (`Last-Event-ID`); null: only what is stored from now on. */
  after: number | null;
  deliver(batch: FeedBatch): void;
  /** The replay or the database failed for good: the stream should end (its client reconnects). */
  fail(error: unknown): void;
}

export interface Subscription {
  close(): void;
}

interface Subscriber extends SubscribeOptions {
  /** The last event id this subscriber has seen (delivered or filtered out); unset until it is live. */
  cursor: number | undefined;
  /** Live events that arrived during the replay, delivered after it. */
  pending: FeedEvent[][] | null;
  closed: boolean;
}

/** SPEC §13: a comment line every 15 s keeps proxies from closing an idle stream. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Open streams one process holds by default (`AEGIS_EVENT_STREAMS_MAX`). */
export const DEFAULT_MAX_STREAMS = 100;

export interface EventFeedOptions {
  events: () => Promise<EventStore>;
  signals: Signals;
  logger: Logger;
  pollMs?: number;
  /** The streams reading from this feed: at most this many open at once. */
  maxStreams?: number;
  /** …each sending a keep-alive comment this often. */
  heartbeatMs?: number;
}

/**
 * The one poller of a process that every event stream reads from: it reads
 * the events table by id (`id > last`), which sees what any process on the
 * same database stored, and is woken at once by this process's
 * `eventsStored` signal. It polls only while some stream is open. No broker:
 * the database is the log, and a client that reconnects replays from it.
 */
export class EventFeed {
  readonly #options: EventFeedOptions;
  readonly #subscribers = new Set<Subscriber>();
  /** The highest event id dispatched; unknown while no stream is open. */
  #lastId: number | undefined;
  /** Reading the newest id when the first stream opens. */
  #starting: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #wokenWhilePolling = false;
  /** A read is about to start, gathering the wake-ups that come meanwhile. */
  #gathering = false;
  /** The last read failed: said once, not at every poll while the database is away. */
  #failing = false;
  #stopListening: (() => void) | undefined;

  /** How many streams may be open at once; one more is refused (503). */
  readonly maxStreams: number;
  readonly heartbeatMs: number;

  constructor(options: EventFeedOptions) {
    this.#options = options;
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Adds a stream at once (so a cap counted on `size` holds); its replay, if any, follows asynchronously. */
  subscribe(options: SubscribeOptions): Subscription {
    const subscriber: Subscriber = { ...options, cursor: undefined, pending: [], closed: false };
    this.#subscribers.add(subscriber);
    if (this.#subscribers.size === 1) this.#start();
    void this.#begin(subscriber);
    return {
      close: () => {
        subscriber.closed = true;
        this.#subscribers.delete(subscriber);
        if (this.#subscribers.size === 0) this.#stop();
      },
    };
  }

  /** Replays what was stored after the client's id, then lets the live events through (those that came meanwhile too). */
  async #begin(subscriber: Subscriber): Promise<void> {
    try {
      const upTo = await this.#started();
      let cursor = subscriber.after ?? upTo;
      if (subscriber.after !== null) {
        const events = await this.#options.events();
        while (cursor < upTo && !subscriber.closed) {
          const page = (await events.after(cursor, PAGE)).filter((e) => e.id <= upTo);
          if (page.length === 0) break;
          const matching = page.filter((event) => eventMatches(event, subscriber.filter));
          if (matching.length > 0 && !subscriber.closed)
            subscriber.deliver({
              events: matching,
              frames: Buffer.concat(matching.map(sseFrame)),
            });
          cursor = (page[page.length - 1] as StoredEvent).id;
        }
        cursor = Math.max(cursor, upTo);
      }
      subscriber.cursor = cursor;
      const pending = subscriber.pending ?? [];
      subscriber.pending = null;
      for (const items of pending) this.#offer(subscriber, items, null);
    } catch (error) {
      if (!subscriber.closed) subscriber.fail(error);
    }
  }

  /**
   * Hands a read's events to one stream: those after its cursor that match
   * its filter, as one batch. `whole` is every frame of the read in one
   * buffer, shared by all the streams that take them all (no filter).
   */
  #offer(subscriber: Subscriber, items: readonly FeedEvent[], whole: Buffer | null): void {
    if (subscriber.closed || items.length === 0) return;
    if (subscriber.pending) {
      subscriber.pending.push([...items]);
      return;
    }
    const cursor = subscriber.cursor ?? 0;
    const taken = items.filter(
      (item) => item.event.id > cursor && eventMatches(item.event, subscriber.filter),
    );
    subscriber.cursor = Math.max(cursor, (items[items.length - 1] as FeedEvent).event.id);
    if (taken.length === 0) return;
    subscriber.deliver({
      events: taken.map((item) => item.event),
      frames:
        whole && taken.length === items.length
          ? whole
          : taken.length === 1
            ? (taken[0] as FeedEvent).frame
            : Buffer.concat(taken.map((item) => item.frame)),
    });
  }

  #start(): void {
    this.#stopListening = this.#options.signals.on('eventsStored', () => this.#wake());
    this.#schedule();
  }

  /** No stream left: no polling, and the next first stream starts from the newest id again. */
  #stop(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#gathering = false;
    this.#lastId = undefined;
    this.#starting = undefined;
  }

  #started(): Promise<number> {
    if (this.#lastId !== undefined) return Promise.resolve(this.#lastId);
    if (!this.#starting) {
      const starting: Promise<number> = this.#options
        .events()
        .then((events) => events.latestId())
        .then((latest) => {
          // A feed stopped meanwhile starts again from a fresh read, not from this one.
          if (this.#starting === starting) this.#lastId ??= latest;
          return this.#lastId ?? latest;
        });
      this.#starting = starting;
      starting.catch(() => {
        if (this.#starting === starting) this.#starting = undefined;
      });
    }
    return this.#starting;
  }

  #wake(): void {
    if (this.#subscribers.size === 0) return;
    if (this.#polling) {
      this.#wokenWhilePolling = true;
      return;
    }
    if (this.#gathering) return;
    clearTimeout(this.#timer);
    this.#gathering = true;
    this.#timer = setTimeout(() => {
      this.#gathering = false;
      void this.#poll();
    }, GATHER_MS);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#gathering = false;
    if (this.#subscribers.size === 0) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#options.pollMs ?? DEFAULT_FEED_POLL_MS);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      let last = await this.#started();
      const events = await this.#options.events();
      for (;;) {
        const page = await events.after(last, PAGE);
        // Every stream closed (or the feed restarted) meanwhile: this read is stale.
        if (this.#subscribers.size === 0 || this.#lastId !== last) return;
        if (page.length > 0) {
          const items = page.map((event) => ({ event, frame: sseFrame(event) }));
          const whole =
            items.length === 1
              ? (items[0] as FeedEvent).frame
              : Buffer.concat(items.map((i) => i.frame));
          last = (page[page.length - 1] as StoredEvent).id;
          this.#lastId = last;
          for (const subscriber of this.#subscribers) this.#offer(subscriber, items, whole);
        }
        if (page.length < PAGE) break;
      }
      if (this.#failing) this.#options.logger.info('event stream: reading new events works again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing)
        this.#options.logger.warn('event stream: reading new events failed; trying again', {
          error: errorMessage(error),
        });
      this.#failing = true;
    } finally {
      this.#polling = false;
      if (this.#wokenWhilePolling) {
        this.#wokenWhilePolling = false;
        this.#wake();
      } else this.#schedule();
    }
  }
}
