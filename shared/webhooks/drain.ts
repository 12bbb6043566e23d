import type { WebhookConfig } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AttemptOutcome, ClaimedDelivery, WebhookOutbox } from './outbox.ts';
import { DEFAULT_RETRY_DELAYS_MS, decideOutcome, type RetryPolicy } from './retry-policy.ts';
import { DELIVERY_TIMEOUT_MS, sendDelivery } from './send.ts';

export interface DrainOptions {
  outbox: WebhookOutbox;
  webhooks: readonly WebhookConfig[];
  logger: Logger;
  /** Only this run's deliveries (what `aegis run` sends before it exits). */
  runId?: string | undefined;
  policy?: RetryPolicy;
  timeoutMs?: number;
  /** How many deliveries are claimed and sent at once. */
  batchSize?: number;
  /** Aborts attempts in flight (they are recorded as due again). */
  signal?: AbortSignal | undefined;
  /** Checked before each batch: false stops taking new deliveries, letting those in flight finish. */
  keepGoing?: () => boolean;
  /** Hears each attempt's outcome (the metrics). */
  onAttempt?: (outcome: AttemptOutcome['kind']) => void;
  now?: () => number;
}

export interface DrainSummary {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/** A claim lasts past the attempt's own timeout, so a live sender never loses it mid-attempt. */
const leaseFor = (timeoutMs: number) => timeoutMs * 3;

/** Claims and sends one batch of due deliveries; resolves when every attempt is recorded. */
export async function drainOnce(options: DrainOptions): Promise<DrainSummary> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const claimed = await options.outbox.claimDue({
    now: now(),
    leaseMs: leaseFor(timeoutMs),
    limit: options.batchSize ?? 10,
    runId: options.runId,
  });
  const outcomes = await Promise.all(
    claimed.map((delivery) => attempt(delivery, options, timeoutMs, now)),
  );
  return {
    attempted: outcomes.length,
    delivered: outcomes.filter((o) => o.kind === 'delivered').length,
    retrying: outcomes.filter((o) => o.kind === 'retry').length,
    failed: outcomes.filter((o) => o.kind === 'failed').length,
  };
}

/** Sends due deliveries batch after batch until none is due (or it is told to stop). */
export async function drainDue(options: DrainOptions): Promise<DrainSummary> {
  const total: DrainSummary = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  for (;;) {
    if (options.signal?.aborted || options.keepGoing?.() === false) return total;
    const summary = await drainOnce(options);
    for (const key of Object.keys(total) as (keyof DrainSummary)[]) total[key] += summary[key];
    if (summary.attempted === 0) return total;
  }
}

async function attempt(
  delivery: ClaimedDelivery,
  options: DrainOptions,
  timeoutMs: number,
  now: () => number,
): Promise<AttemptOutcome> {
  const webhook = options.webhooks.find((w) => w.url === delivery.url);
  let outcome: AttemptOutcome;
  if (!webhook) {
    outcome = {
      kind: 'failed',
      statusCode: null,
      error: 'this URL is no longer a configured webhook',
    };
  } else {
    const result = await sendDelivery(delivery, {
      secret: webhook.secret,
      timeoutMs,
      signal: options.signal,
      now,
    });
    outcome = decideOutcome(
      result,
      delivery.attempts,
      now(),
      options.policy ?? { delaysMs: DEFAULT_RETRY_DELAYS_MS },
    );
  }
  options.onAttempt?.(outcome.kind);
  let overtaken = false;
  try {
    overtaken = !(await options.outbox.recordAttempt(delivery, outcome, now()));
  } catch (error) {
    // The claim expires and the attempt is made again: at least once, never lost.
    options.logger.error('recording a webhook attempt failed', {
      delivery_id: delivery.id,
      error: errorMessage(error),
    });
  }
  // A delivery is news only when it goes wrong; the outbox API shows every one.
  const level = outcome.kind === 'delivered' ? 'debug' : 'warn';
  options.logger[level]('webhook attempt', {
    delivery_id: delivery.id,
    webhook_id: delivery.webhookId,
    receiver: new URL(delivery.url).origin, // the path of a webhook URL is often its token
    attempt: delivery.attempts + 1,
    outcome: outcome.kind,
    status_code: outcome.statusCode,
    ...(outcome.kind === 'delivered' ? {} : { error: outcome.error }),
    // A redelivery asked for meanwhile stands: this outcome is in the attempt log only.
    ...(overtaken ? { overtaken_by: 'a redelivery or another worker' } : {}),
  });
  return outcome;
}
