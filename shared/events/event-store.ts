import type { Client, InStatement, Row } from '@libsql/client';
import { statement } from '../db/statement.ts';
import type { AegisEvent, EventType } from './types.ts';

export interface StoredEvent extends AegisEvent {
  id: number;
}

/** What a listing or a stream may be narrowed to; every given field must match. */
export interface EventFilter {
  eventType?: EventType | undefined;
  workflow?: string | undefined;
  runId?: string | undefined;
}

const EVENT_COLUMNS = 'id, event_type, timestamp, workflow_name, run_id, data';

export function eventMatches(event: AegisEvent, filter: EventFilter): boolean {
  return (
    (filter.eventType === undefined || event.event_type === filter.eventType) &&
    (filter.workflow === undefined || event.workflow_name === filter.workflow) &&
    (filter.runId === undefined || event.run_id === filter.runId)
  );
}

/** The event log (SPEC §5): in libSQL so every process shares it, keeping the newest `capacity`. */
export class EventStore {
  readonly #db: Client;
  /** `event_log_size`: how many events are kept. */
  readonly #capacity: number;

  constructor(db: Client, options: { capacity: number }) {
    this.#db = db;
    this.#capacity = options.capacity;
  }

  /** The insert and the trim, for the caller to run in one transaction with what else the event causes. */
  appendStatements(event: AegisEvent): InStatement[] {
    return [
      {
        sql: 'INSERT INTO events (event_type, timestamp, workflow_name, run_id, data) VALUES (?, ?, ?, ?, ?)',
        args: [
          event.event_type,
          event.timestamp,
          event.workflow_name,
          event.run_id,
          JSON.stringify(event.data),
        ],
      },
      {
        sql: 'DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)',
        args: [this.#capacity],
      },
    ];
  }

  async append(event: AegisEvent): Promise<void> {
    await this.#db.batch(this.appendStatements(event), 'write');
  }

  /** Newest first. */
  async list({ limit, ...filter }: { limit: number } & EventFilter): Promise<StoredEvent[]> {
    // The log keeps `event_log_size` events, so a filter that the index does not cover scans few rows.
    const where = [
      filter.eventType === undefined ? '' : 'event_type = :eventType',
      filter.workflow === undefined ? '' : 'workflow_name = :workflow',
      filter.runId === undefined ? '' : 'run_id = :runId',
    ].filter(Boolean);
    const result = await this.#db.execute(
      statement(
        `SELECT ${EVENT_COLUMNS} FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT :limit`,
        {
          eventType: filter.eventType ?? null,
          workflow: filter.workflow ?? null,
          runId: filter.runId ?? null,
          limit,
        },
      ),
    );
    return result.rows.map(toEvent);
  }

  /** The events stored after `id`, oldest first (what the event stream polls and replays). */
  async after(id: number, limit: number): Promise<StoredEvent[]> {
    const result = await this.#db.execute({
      sql: `SELECT ${EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`,
      args: [id, limit],
    });
    return result.rows.map(toEvent);
  }

  /** The id of the newest event stored, 0 when there is none. */
  async latestId(): Promise<number> {
    const result = await this.#db.execute('SELECT MAX(id) AS id FROM events');
    return Number(result.rows[0]?.id ?? 0);
  }
}

function toEvent(row: Row): StoredEvent {
  return {
    id: Number(row.id),
    event_type: row.event_type as EventType,
    timestamp: String(row.timestamp),
    workflow_name: String(row.workflow_name),
    run_id: String(row.run_id),
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
  };
}
