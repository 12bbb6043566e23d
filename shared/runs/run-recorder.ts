import type { Stores } from '../stores.ts';
import type { RunObserver } from '../workflow/run-workflow.ts';
import type { StepResult } from '../workflow/types.ts';

/**
 * Records a run as it goes (SPEC §4, §5): the run as `running` at its start,
 * each step as it finishes, the last batch's steps with the completion; every
 * event with its outbox deliveries in one transaction.
 */
export function recordRun(
  stores: Stores,
  onDeliveriesQueued: (runId: string) => void = () => {},
): RunObserver {
  const deferred: { index: number; step: StepResult }[] = [];
  return {
    runStarted: (start) => stores.history.startRun(start),
    stepFinished: async (index, step, { final, runId }) => {
      if (final) deferred.push({ index, step });
      else await stores.history.recordStep(runId, index, step);
    },
    runFinished: (result) => stores.history.completeRun(result, deferred),
    event: async (event) => {
      const deliveries = stores.outbox.enqueueStatements(event);
      await stores.db.batch([...stores.events.appendStatements(event), ...deliveries], 'write');
      if (deliveries.length > 0) onDeliveriesQueued(event.run_id);
    },
  };
}
