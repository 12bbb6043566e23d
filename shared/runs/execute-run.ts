import { randomUUID } from 'node:crypto';
import type { AegisConfig, WorkflowConfig } from '../config/schema.ts';
import type { Environment } from '../env.ts';
import { errorMessage, NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Stores } from '../stores.ts';
import { type RunObserver, runWorkflow } from '../workflow/run-workflow.ts';
import type { RunResult } from '../workflow/types.ts';
import { recordRun } from './run-recorder.ts';

export function findWorkflow(config: AegisConfig, key: string): WorkflowConfig {
  const workflow = Object.hasOwn(config.workflows, key) ? config.workflows[key] : undefined;
  if (workflow) return workflow;
  const known = Object.keys(config.workflows);
  throw new NotFoundError(
    `unknown workflow "${key}" (${known.length > 0 ? `known: ${known.join(', ')}` : 'no workflows are configured'})`,
  );
}

export interface ExecuteRunOptions {
  config: AegisConfig;
  env: Environment;
  stores: Stores;
  logger: Logger;
  /** Extra listeners, such as the CLI's progress lines. */
  observers?: readonly RunObserver[];
  /** Called when a run's event queued webhook deliveries: the host wakes its worker here. */
  onDeliveriesQueued?: (runId: string) => void;
}

/** The one place a workflow is run and recorded, whoever asked: the API, the CLI or a handler. */
export async function executeRun(key: string, options: ExecuteRunOptions): Promise<RunResult> {
  const workflow = findWorkflow(options.config, key);
  const runId = randomUUID();
  return runWorkflow({
    key,
    runId,
    workflow,
    services: options.config.services,
    env: options.env,
    observers: [
      recordRun(options.stores, options.onDeliveriesQueued),
      ...(options.observers ?? []),
    ],
    onObserverError: (error) =>
      options.logger.error('recording or reporting the run failed', {
        workflow: key,
        run_id: runId,
        error: errorMessage(error),
      }),
  });
}
