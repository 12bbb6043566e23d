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
}

/** The result of a run (SPEC §3). */
export interface RunResult {
  run_id: string;
  workflow_name: string;
  success: boolean;
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
