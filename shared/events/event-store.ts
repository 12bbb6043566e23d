import type { Client, InStatement } from '@libsql/client';
import type { AegisEvent, EventType } from './types.ts';

export interface StoredEvent extends AegisEvent {
  id: number;
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
  async list({
    limit,
    eventType,
  }: {
    limit: number;
    eventType?: EventType | undefined;
  }): Promise<StoredEvent[]> {
    const result = await this.#db.execute({
      sql: `SELECT id, event_type, timestamp, workflow_name, run_id, data FROM events
            ${eventType ? 'WHERE event_type = :eventType' : ''} ORDER BY id DESC LIMIT :limit`,
      args: eventType ? { eventType, limit } : { limit },
    });
    return result.rows.map((row) => ({
      id: Number(row.id),
      event_type: row.event_type as EventType,
      timestamp: String(row.timestamp),
      workflow_name: String(row.workflow_name),
      run_id: String(row.run_id),
      data: JSON.parse(String(row.data)) as Record<string, unknown>,
    }));
  }
}
