import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Signals } from '#shared/signals.ts';
import { captureLogger, configFrom, tempStores } from '#test/support/temp.ts';
import { EventFeed, type FeedBatch } from './event-feed.ts';
import type { EventStore, StoredEvent } from './event-store.ts';

/** The feed over a real event log, with the number of reads it made. */
async function setup(pollMs = 20) {
  const stores = await tempStores(configFrom('event_log_size: 10000\n'));
  const signals = new Signals();
  let reads = 0;
  const events = stores.events;
  const counted = new Proxy(events, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name === 'after' || name === 'latestId') reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as EventStore;
  const feed = new EventFeed({
    events: async () => counted,
    signals,
    logger: captureLogger().logger,
    pollMs,
  });
  let n = 0;
  const append = async () => {
    n++;
    await events.append({
      event_type: 'step.completed',
      timestamp: new Date().toISOString(),
      workflow_name: n % 2 === 0 ? 'even' : 'odd',
      run_id: `run-${n}`,
      data: { n },
    });
    signals.emit('eventsStored', `run-${n}`);
  };
  return { feed, append, reads: () => reads, events };
}

function collector() {
  const received: StoredEvent[] = [];
  return {
    received,
    deliver: (batch: FeedBatch) => {
      received.push(...batch.events);
      // Every batch's frames are its events, in order, one SSE message each.
      expect(batch.frames.toString().match(/^id: /gm)?.length).toBe(batch.events.length);
    },
    fail: (error: unknown) => {
      throw error;
    },
  };
}

describe('EventFeed', () => {
  it('reads the database only while a stream is open', async () => {
    // Prepare
    const { feed, append, reads } = await setup();
    await append();
    await sleep(100);
    const idle = reads();
    // Act
    const subscription = feed.subscribe({ filter: {}, after: null, ...collector() });
    await sleep(100);
    const open = reads();
    subscription.close();
    const closed = reads();
    await append();
    await sleep(100);
    // Assess
    expect(idle).toBe(0);
    expect(open).toBeGreaterThan(2); // polling, at the configured interval
    expect(reads()).toBe(closed);
  });

  it('gives each stream every event after its id exactly once, in order, while events keep coming', async () => {
    // Prepare: events are stored all along; streams join at different points, with and without a replay.
    const { feed, append, events } = await setup(5);
    for (let i = 0; i < 20; i++) await append();
    const streams: {
      after: number | null;
      from: number;
      received: StoredEvent[];
      close(): void;
    }[] = [];
    // Act
    for (let i = 0; i < 60; i++) {
      const appended = append();
      if (i % 10 === 0) {
        const latest = await events.latestId();
        for (const after of [null, 0, Math.max(0, latest - 7)]) {
          const sink = collector();
          const subscription = feed.subscribe({ filter: {}, after, ...sink });
          streams.push({ after, from: latest, received: sink.received, close: subscription.close });
        }
      }
      await appended;
    }
    const last = await events.latestId();
    await sleep(200);
    // Assess
    for (const stream of streams) {
      const ids = stream.received.map((e) => e.id);
      expect(new Set(ids).size, 'no event twice').toBe(ids.length);
      expect(ids, 'in order').toEqual([...ids].sort((a, b) => a - b));
      expect(ids.at(-1), 'up to the last').toBe(last);
      const first = stream.after === null ? stream.from : stream.after;
      // From where it joined (a live stream may also get the events of the moment it joined), with no gap.
      const start = ids[0] ?? Number.NaN;
      expect(start).toBeLessThanOrEqual(first + 2);
      expect(ids).toEqual(Array.from({ length: last - start + 1 }, (_, k) => start + k));
      if (stream.after !== null) expect(ids[0]).toBe(stream.after + 1);
      stream.close();
    }
    expect(feed.size).toBe(0);
  });

  it('filters each stream on its own', async () => {
    // Prepare
    const { feed, append } = await setup();
    const even = collector();
    const all = collector();
    feed.subscribe({ filter: { workflow: 'even' }, after: 0, ...even });
    feed.subscribe({ filter: {}, after: 0, ...all });
    // Act
    for (let i = 0; i < 6; i++) await append();
    await sleep(100);
    // Assess
    expect(all.received).toHaveLength(6);
    expect(even.received.map((e) => e.workflow_name)).toEqual(['even', 'even', 'even']);
  });
});
