import type { AegisConfig } from './config/schema.ts';
import { type Client, openDatabase } from './db/open.ts';
import { resolveDatabaseTarget } from './db/target.ts';
import type { Environment } from './env.ts';
import { EventStore } from './events/event-store.ts';
import type { AegisEvent } from './events/types.ts';
import { HistoryStore } from './history/history-store.ts';
import { InsightStore } from './insight/insight-store.ts';
import { RunQueue } from './runs/run-queue.ts';
import { WebhookOutbox } from './webhooks/outbox.ts';

/** Everything kept in the one libSQL database: the run queue and history, events and the webhook outbox. */
export interface Stores {
  db: Client;
  queue: RunQueue;
  history: HistoryStore;
  /** Per-test history, flaky tests, trends and bug dedupe (SPEC §14). */
  insight: InsightStore;
  events: EventStore;
  outbox: WebhookOutbox;
}

export function storesOver(db: Client, config: AegisConfig): Stores {
  return {
    db,
    queue: new RunQueue(db),
    history: new HistoryStore(db, { maxRecordsPerWorkflow: config.history_max_records }),
    insight: new InsightStore(db),
    events: new EventStore(db, { capacity: config.event_log_size }),
    outbox: new WebhookOutbox(db, config.webhooks),
  };
}

export async function openStores(config: AegisConfig, env: Environment): Promise<Stores> {
  const db = await openDatabase(resolveDatabaseTarget(config.history_db_path, env));
  return storesOver(db, config);
}

/**
 * Stores an event with its webhook deliveries in one transaction (SPEC §5),
 * so a delivery exists exactly when its event does; answers how many
 * deliveries were queued.
 */
export async function storeEvent(stores: Stores, event: AegisEvent): Promise<number> {
  const deliveries = stores.outbox.enqueueStatements(event);
  await stores.db.batch([...stores.events.appendStatements(event), ...deliveries], 'write');
  return deliveries.length;
}
