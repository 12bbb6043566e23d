import { randomUUID } from 'node:crypto';
import type { Client, InStatement, Row } from '@libsql/client';
import type { WebhookConfig } from '../config/schema.ts';
import type { AegisEvent } from '../events/types.ts';
import { redactUrl, redactUrlsIn } from '../redact.ts';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** An outbox entry as the API shows it (SPEC §6). */
export interface Delivery {
  id: number;
  webhook_id: string;
  event_type: string;
  run_id: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

/** A delivery the worker has claimed: it alone sends this attempt until the lease ends. */
export interface ClaimedDelivery {
  id: number;
  webhookId: string;
  url: string;
  payload: string;
  attempts: number;
  claimToken: string;
  /** The W3C trace of the run the event belongs to; null once the run left the history. */
  traceId: string | null;
}

export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; nextAttemptAt: number }
  | { kind: 'failed'; statusCode: number | null; error: string };

/** One entry of the attempt log: what one HTTP attempt of a delivery produced. */
export interface DeliveryAttempt {
  id: number;
  delivery_id: number;
  /** The attempt's number in its round of attempts (a redelivery starts a new round at 1). */
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  outcome: AttemptOutcome['kind'];
}

/** The body sent to a webhook (SPEC §5), serialised once so the signature covers the exact bytes sent. */
export function webhookPayload(event: AegisEvent): string {
  const { event_type, timestamp, workflow_name, run_id, data } = event;
  return JSON.stringify({ event_type, timestamp, workflow_name, run_id, data });
}

export function webhookMatches(webhook: WebhookConfig, eventType: string): boolean {
  return webhook.events.includes('*') || webhook.events.includes(eventType);
}

const DELIVERY_COLUMNS = `id, webhook_id, event_type, run_id, url, status, attempts, last_status_code, last_error,
  created_at, next_attempt_at, delivered_at`;

/**
 * The durable webhook outbox (SPEC §5): a delivery is written in the same
 * transaction as its event, then claimed and sent by a worker, so nothing is
 * lost when a receiver or the process is down.
 */
export class WebhookOutbox {
  readonly #db: Client;
  readonly #webhooks: readonly WebhookConfig[];

  constructor(db: Client, webhooks: readonly WebhookConfig[]) {
    this.#db = db;
    this.#webhooks = webhooks;
  }

  /** One insert per webhook that wants this event type; empty when none does. */
  enqueueStatements(event: AegisEvent, now = Date.now()): InStatement[] {
    const payload = webhookPayload(event);
    return this.#webhooks
      .filter((webhook) => webhookMatches(webhook, event.event_type))
      .map((webhook) => ({
        sql: `INSERT INTO webhook_deliveries (webhook_id, url, event_type, run_id, payload, status, attempts, created_at, next_attempt_at)
              VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
        args: [
          `msg_${randomUUID().replaceAll('-', '')}`,
          webhook.url,
          event.event_type,
          event.run_id,
          payload,
          new Date(now).toISOString(),
          now,
        ],
      }));
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs`, in one statement, so
   * two processes sharing the database never send the same attempt.
   */
  async claimDue(options: {
    now: number;
    leaseMs: number;
    limit: number;
    runId?: string | undefined;
  }): Promise<ClaimedDelivery[]> {
    const claimToken = randomUUID();
    const result = await this.#db.execute({
      sql: `UPDATE webhook_deliveries SET claimed_until = :leaseEnd, claim_token = :token
            WHERE id IN (
              SELECT id FROM webhook_deliveries
              WHERE status = 'pending' AND next_attempt_at <= :now
                AND (claimed_until IS NULL OR claimed_until <= :now) ${options.runId ? 'AND run_id = :runId' : ''}
              ORDER BY next_attempt_at, id LIMIT :limit)
            RETURNING id, webhook_id, url, payload, attempts,
              (SELECT trace_id FROM runs WHERE runs.run_id = webhook_deliveries.run_id) AS trace_id`,
      args: {
        leaseEnd: options.now + options.leaseMs,
        token: claimToken,
        now: options.now,
        limit: options.limit,
        ...(options.runId ? { runId: options.runId } : {}),
      },
    });
    return result.rows
      .map((row) => ({
        id: Number(row.id),
        webhookId: String(row.webhook_id),
        url: String(row.url),
        payload: String(row.payload),
        attempts: Number(row.attempts),
        claimToken,
        traceId: row.trace_id === null || row.trace_id === undefined ? null : String(row.trace_id),
      }))
      .sort((a, b) => a.id - b.id);
  }

  /**
   * Logs an attempt and records its outcome on the delivery, in one
   * transaction. The outcome is logged whatever happened meanwhile, but it
   * changes the delivery only while this attempt still holds its claim: a
   * redelivery (which drops the claim) or another worker has taken over otherwise.
   * Resolves to whether the delivery took the outcome.
   */
  async recordAttempt(
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    now = Date.now(),
  ): Promise<boolean> {
    const error = outcome.kind === 'delivered' ? null : outcome.error;
    const logEntry: InStatement = {
      sql: `INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, outcome)
            VALUES (?, ?, ?, ?, ?, ?)`,
      args: [
        delivery.id,
        delivery.attempts + 1,
        new Date(now).toISOString(),
        outcome.statusCode,
        error,
        outcome.kind,
      ],
    };
    const common = { id: delivery.id, token: delivery.claimToken, code: outcome.statusCode };
    const release =
      'claimed_until = NULL, claim_token = NULL, attempts = attempts + 1, last_status_code = :code';
    const where = 'WHERE id = :id AND claim_token = :token';
    const update: InStatement =
      outcome.kind === 'delivered'
        ? {
            sql: `UPDATE webhook_deliveries SET status = 'delivered', ${release}, last_error = NULL, next_attempt_at = NULL, delivered_at = :at ${where}`,
            args: { ...common, at: new Date(now).toISOString() },
          }
        : outcome.kind === 'retry'
          ? {
              sql: `UPDATE webhook_deliveries SET ${release}, last_error = :error, next_attempt_at = :next ${where}`,
              args: { ...common, error, next: outcome.nextAttemptAt },
            }
          : {
              sql: `UPDATE webhook_deliveries SET status = 'failed', ${release}, last_error = :error, next_attempt_at = NULL ${where}`,
              args: { ...common, error },
            };
    const [, updated] = await this.#db.batch([logEntry, update], 'write');
    return (updated?.rowsAffected ?? 0) > 0;
  }

  /** A delivery's attempts, oldest first. */
  async attemptLog(deliveryId: number): Promise<DeliveryAttempt[]> {
    const result = await this.#db.execute({
      sql: `SELECT id, delivery_id, attempt, at, status_code, error, outcome FROM webhook_attempts
            WHERE delivery_id = ? ORDER BY id`,
      args: [deliveryId],
    });
    return result.rows.map((row) => ({
      id: Number(row.id),
      delivery_id: Number(row.delivery_id),
      attempt: Number(row.attempt),
      at: String(row.at),
      status_code: row.status_code === null ? null : Number(row.status_code),
      error: row.error === null ? null : String(row.error),
      outcome: row.outcome as DeliveryAttempt['outcome'],
    }));
  }

  /** Newest first. */
  async list({
    status,
    limit,
  }: {
    status?: DeliveryStatus | undefined;
    limit: number;
  }): Promise<Delivery[]> {
    const result = await this.#db.execute({
      sql: `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${status ? 'WHERE status = :status' : ''} ORDER BY id DESC LIMIT :limit`,
      args: status ? { status, limit } : { limit },
    });
    return result.rows.map(toDelivery);
  }

  async get(id: number): Promise<Delivery | null> {
    const result = await this.#db.execute({
      sql: `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?`,
      args: [id],
    });
    const row = result.rows[0];
    return row ? toDelivery(row) : null;
  }

  /**
   * Queues a delivery again with the same `webhook-id`: due now, with a fresh
   * round of attempts (SPEC §5's schedule, whatever it had used), and no
   * claim, so an attempt still in flight cannot overwrite it when it ends.
   */
  async redeliver(id: number, now = Date.now()): Promise<Delivery | null> {
    await this.#db.execute({
      sql: `UPDATE webhook_deliveries
            SET status = 'pending', attempts = 0, next_attempt_at = :now, delivered_at = NULL,
                claimed_until = NULL, claim_token = NULL
            WHERE id = :id`,
      args: { id, now },
    });
    return this.get(id);
  }

  /** When the next pending delivery (of one run, or of all) is due, in epoch ms; null when none is pending. */
  async nextDueAt(runId?: string): Promise<number | null> {
    const result = await this.#db.execute({
      sql: `SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0))) AS due FROM webhook_deliveries
            WHERE status = 'pending' ${runId ? 'AND run_id = ?' : ''}`,
      args: runId ? [runId] : [],
    });
    const due = result.rows[0]?.due;
    return due === null || due === undefined ? null : Number(due);
  }

  async pendingCount(runId?: string): Promise<number> {
    const result = await this.#db.execute({
      sql: `SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending' ${runId ? 'AND run_id = ?' : ''}`,
      args: runId ? [runId] : [],
    });
    return Number(result.rows[0]?.n ?? 0);
  }
}

/** A delivery as the API and the dashboard show it: credentials in its URL and error masked (SPEC §15). */
function toDelivery(row: Row): Delivery {
  return {
    id: Number(row.id),
    webhook_id: String(row.webhook_id),
    event_type: String(row.event_type),
    run_id: String(row.run_id),
    url: redactUrl(String(row.url)),
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    last_status_code: row.last_status_code === null ? null : Number(row.last_status_code),
    last_error: row.last_error === null ? null : redactUrlsIn(String(row.last_error)),
    created_at: String(row.created_at),
    next_attempt_at:
      row.next_attempt_at === null ? null : new Date(Number(row.next_attempt_at)).toISOString(),
    delivered_at: row.delivered_at === null ? null : String(row.delivered_at),
  };
}
