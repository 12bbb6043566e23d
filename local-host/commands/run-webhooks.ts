import { setTimeout as sleep } from 'node:timers/promises';
import type { AegisContext } from '#shared/context.ts';
import { drainDue } from '#shared/webhooks/drain.ts';
import { DELIVERY_TIMEOUT_MS } from '#shared/webhooks/send.ts';
import type { CliIO } from '../io.ts';

/** SPEC §5: `aegis run` waits at most this long for its own run's deliveries. */
const OWN_DELIVERIES_BUDGET_MS = 10_000;

/**
 * Sends this run's webhook deliveries before the command exits, retrying
 * within the budget; whatever is still pending stays queued for the host.
 */
export async function sendOwnDeliveries(
  io: CliIO,
  context: AegisContext,
  runId: string,
  { quiet }: { quiet: boolean },
): Promise<void> {
  if (context.config.webhooks.length === 0) return;
  const { outbox } = await context.stores();
  const deadline = Date.now() + OWN_DELIVERIES_BUDGET_MS;
  let delivered = 0;
  let failed = 0;
  for (;;) {
    const summary = await drainDue({
      outbox,
      webhooks: context.config.webhooks,
      logger: context.logger,
      runId,
      keepGoing: () => Date.now() < deadline,
      // An attempt never outlives the budget: the command exits on time.
      timeoutMs: Math.max(1, Math.min(DELIVERY_TIMEOUT_MS, deadline - Date.now())),
    });
    delivered += summary.delivered;
    failed += summary.failed;
    if ((await outbox.pendingCount(runId)) === 0) break;
    const due = await outbox.nextDueAt(runId);
    if (due === null || due >= deadline) break;
    await sleep(Math.max(0, due - Date.now()));
  }
  const pending = await outbox.pendingCount(runId);
  if (quiet || delivered + failed + pending === 0) return;
  const parts = [`${delivered} delivered`];
  if (failed > 0) parts.push(`${failed} failed (see GET /api/webhooks/deliveries)`);
  if (pending > 0) parts.push(`${pending} still queued; \`aegis serve\` will keep retrying`);
  io.stdout.write(`webhooks: ${parts.join(', ')}\n`);
}
