import { statement } from '../db/statement.ts';
import type { DedupeKey } from '../runs/run-queue.ts';

/**
 * How long a delivery id is remembered: far longer than any sender retries
 * (GitHub lets a delivery be redelivered for 3 days; Standard Webhooks
 * senders retry for about as long), so a retry never starts a second run.
 */
export const KEEP_DELIVERIES_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * What `RunService.start` needs to start one run per delivery id of a trigger
 * (SPEC §12): the `trigger_deliveries` row is written in the batch that queues
 * the run, so a redelivery — to this process or another — answers that run.
 */
export function deliveryClaim(trigger: string, deliveryId: string, now = Date.now()): DedupeKey {
  return {
    table: 'trigger_deliveries',
    key: { trigger_name: trigger, delivery_id: deliveryId },
    columns: { received_at: now },
    before: [
      statement('DELETE FROM trigger_deliveries WHERE received_at < :horizon', {
        horizon: now - KEEP_DELIVERIES_MS,
      }),
    ],
  };
}
