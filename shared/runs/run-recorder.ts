import type { Stores } from '../stores.ts';
import type { RunObserver } from '../workflow/run-workflow.ts';
import type { StepResult } from '../workflow/types.ts';

/**
 * Records one run as it goes (SPEC §4, §5): the run as `running` at its
 * start, each step as it finishes, the last batch's steps together with the
 * completion, so a completed run always has all its steps; every event with
 * its webhook outbox deliveries in one transaction. A failure throws to the
 * runner, which logs it and goes on.
 */
export function recordRun(
  stores: Stores,
  onDeliveriesQueued: (runId: string) => void = () => {},
): RunObserver {
  /** Steps the completion must write: the last batch's, and any whose own write failed. */
  const unwritten: { index: number; step: StepResult }[] = [];
  return {
    runStarted: (start) => stores.history.startRun(start),
    stepFinished: async (index, step, { final, runId }) => {
      if (final) {
        unwritten.push({ index, step });
        return;
      }
      try {
        await stores.history.recordStep(runId, index, step);
      } catch (error) {
        unwritten.push({ index, step });
        throw error;
      }
    },
    runFinished: (result) => stores.history.completeRun(result, unwritten),
    event: async (event) => {
      const deliveries = stores.outbox.enqueueStatements(event);
      await stores.db.batch([...stores.events.appendStatements(event), ...deliveries], 'write');
      if (deliveries.length > 0) onDeliveriesQueued(event.run_id);
    },
  };
}
