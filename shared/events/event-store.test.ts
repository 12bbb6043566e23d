import { describe, expect, it } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import { configFrom, tempStores } from '#test/support/temp.ts';
import type { AegisEvent, EventType } from './types.ts';

function stores(eventLogSize = 100): Promise<Stores> {
  return tempStores(configFrom(`event_log_size: ${eventLogSize}\n`));
}

const TYPES: EventType[] = [
  'workflow.started',
  'step.completed',
  'failure.detected',
  'workflow.completed',
];

function event(
  n: number,
  event_type: EventType = TYPES[n % TYPES.length] as EventType,
): AegisEvent {
  return {
    event_type,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    workflow_name: 'smoke',
    run_id: `run-${Math.floor(n / 4)}`,
    data: { n, nested: { ok: true, list: [1, 'two'] } },
  };
}

describe('EventStore', () => {
  it('keeps events in the order they happened and lists them newest first, whole', async () => {
    const s = await stores();
    for (let n = 0; n < 6; n++) await s.events.append(event(n));

    const listed = await s.events.list({ limit: 100 });

    expect(listed.map((e) => e.data.n)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(listed[0]).toEqual({ id: listed[0]?.id, ...event(5) });
    const ids = listed.map((e) => e.id);
    expect(ids).toEqual(ids.slice().sort((a, b) => b - a));
  });

  it('lists at most `limit`, the newest', async () => {
    const s = await stores();
    for (let n = 0; n < 6; n++) await s.events.append(event(n));

    expect((await s.events.list({ limit: 2 })).map((e) => e.data.n)).toEqual([5, 4]);
  });

  it('filters by event type', async () => {
    const s = await stores();
    for (let n = 0; n < 12; n++) await s.events.append(event(n));

    const completed = await s.events.list({ limit: 100, eventType: 'workflow.completed' });
    const newestStep = await s.events.list({ limit: 1, eventType: 'step.completed' });

    expect(completed.map((e) => e.data.n)).toEqual([11, 7, 3]);
    expect(completed.every((e) => e.event_type === 'workflow.completed')).toBe(true);
    expect(newestStep.map((e) => e.data.n)).toEqual([9]);
  });

  it('keeps only the newest event_log_size events', async () => {
    const s = await stores(5);
    for (let n = 0; n < 12; n++) await s.events.append(event(n));

    expect((await s.events.list({ limit: 100 })).map((e) => e.data.n)).toEqual([11, 10, 9, 8, 7]);
    const stored = await s.db.execute('SELECT count(*) AS n FROM events');
    expect(stored.rows[0]?.n).toBe(5);
  });

  it('keeps a single event with event_log_size: 1', async () => {
    const s = await stores(1);
    for (let n = 0; n < 3; n++) await s.events.append(event(n));

    expect((await s.events.list({ limit: 100 })).map((e) => e.data.n)).toEqual([2]);
  });

  it('is shared by two clients on one file, the cap counting both', async () => {
    const config = configFrom('event_log_size: 4\n');
    const a = await tempStores(config);
    const b = await openStores(config, {});
    try {
      await a.events.append(event(0));
      await b.events.append(event(1));
      await a.events.append(event(2));

      expect((await b.events.list({ limit: 10 })).map((e) => e.data.n)).toEqual([2, 1, 0]);
      expect((await a.events.list({ limit: 10 })).map((e) => e.data.n)).toEqual([2, 1, 0]);

      await b.events.append(event(3));
      await b.events.append(event(4));
      expect((await a.events.list({ limit: 10 })).map((e) => e.data.n)).toEqual([4, 3, 2, 1]);
    } finally {
      b.db.close();
    }
  });

  it('survives a restart: a new client on the file lists what the old one stored', async () => {
    const config = configFrom('event_log_size: 10\n');
    const first = await openStores(config, {});
    await first.events.append(event(0));
    first.db.close();

    const second = await tempStores(config);

    expect(await second.events.list({ limit: 10 })).toMatchObject([{ data: { n: 0 } }]);
  });

  it("writes the insert and the trim with the caller's statements, all or nothing", async () => {
    const s = await stores(2);
    for (let n = 0; n < 2; n++) await s.events.append(event(n));

    const failing = s.db.batch(
      [...s.events.appendStatements(event(2)), 'INSERT INTO no_such_table VALUES (1)'],
      'write',
    );

    await expect(failing).rejects.toThrow(/no_such_table/);
    expect((await s.events.list({ limit: 10 })).map((e) => e.data.n)).toEqual([1, 0]);
  });
});
