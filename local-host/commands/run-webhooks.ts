import { setTimeout as sleep } from 'node:timers/promises';
import type { AegisContext } from '#shared/context.ts';
import { drainDue } from '#shared/webhooks/drain.ts';
import type { CliIO } from '../io.ts';

/** SPEC §5: `aegis run` waits at most this long for its own run's deliveries. */
const OWN_DELIVERIES_BUDGET_MS = 10_000;
/** The shortest wait between rounds while this run's deliveries are not yet due again. */
const MIN_WAIT_MS = 200;

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
  const signal = AbortSignal.timeout(OWN_DELIVERIES_BUDGET_MS);
  let delivered = 0;
  let failed = 0;
  for (;;) {
    const summary = await drainDue({
      outbox,
      webhooks: context.config.webhooks,
      logger: context.logger,
      runId,
      signal,
      timeoutMs: Math.max(1, Math.min(10_000, deadline - Date.now())),
    });
    delivered += summary.delivered;
    failed += summary.failed;
    if ((await outbox.pendingCount(runId)) === 0) break;
    const due = await outbox.nextDueAt();
    if (due === null || due >= deadline || signal.aborted) break;
    // nextDueAt() covers every run's deliveries: another run's overdue one must not make this a busy loop.
    await sleep(Math.min(Math.max(MIN_WAIT_MS, due - Date.now()), deadline - Date.now()));
  }
  const pending = await outbox.pendingCount(runId);
  if (quiet || delivered + failed + pending === 0) return;
  const parts = [`${delivered} delivered`];
  if (failed > 0) parts.push(`${failed} failed (see GET /api/webhooks/deliveries)`);
  if (pending > 0) parts.push(`${pending} still queued; \`aegis serve\` will keep retrying`);
  io.stdout.write(`webhooks: ${parts.join(', ')}\n`);
}
