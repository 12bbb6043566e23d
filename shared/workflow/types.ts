import type { StepType } from '../config/schema.ts';

export interface StepAttempt {
  attempt: number;
  success: boolean;
  error: string | null;
  duration_ms: number;
}

/** One step's outcome (SPEC §3). A skipped step counts as successful. */
export interface StepResult {
  step_type: StepType;
  service: string;
  success: boolean;
  skipped: boolean;
  data: Record<string, unknown>;
  error: string | null;
  duration_ms: number;
  attempts: StepAttempt[];
  /** Copied from the parent run by a rerun (SPEC §11), not called again. */
  reused?: boolean;
}

/** How a run ended: every step done, or stopped before. */
export type RunEnding = 'completed' | 'cancelled' | 'interrupted';

/** The result of a run (SPEC §3), with how it ended (SPEC §11). */
export interface RunResult {
  run_id: string;
  workflow_name: string;
  status: RunEnding;
  success: boolean;
  /** Why it was cancelled or interrupted; null when completed. */
  reason: string | null;
  started_at: string;
  completed_at: string;
  duration_ms: number;
  steps: StepResult[];
}

export interface RunStart {
  run_id: string;
  workflow_name: string;
  started_at: string;
  step_count: number;
}

/**
 * Why a run is being stopped, carried as its AbortSignal's reason: what it
 * ends as, why, and whether its process may still record it (not when its
 * lease was lost: another process has taken over the record).
 */
export interface RunStop {
  status: 'cancelled' | 'interrupted';
  reason: string;
  record: boolean;
}

export function runStop(status: RunStop['status'], reason: string, record = true): RunStop {
  return { status, reason, record };
}

export function isRunStop(value: unknown): value is RunStop {
  return (
    typeof value === 'object' &&
    value !== null &&
    'status' in value &&
    'reason' in value &&
    'record' in value
  );
}
