// The API's answers, as the dashboard reads them (shared/http-api/schemas.ts is the source of truth).

/**
 * @typedef {{ status: 'ok', version: string, uptime_seconds: number,
 *   services_configured: number, workflows_configured: number }} Health
 */

/**
 * @typedef {'healthy' | 'unhealthy' | 'unreachable' | 'timeout'} HealthStatus
 * @typedef {{ key: string, name: string, description: string, url: string, features: string[],
 *   status: HealthStatus, latency_ms: number, error: string | null }} Service
 */

/**
 * @typedef {{ type: string, service: string, condition: string | null, parallel: boolean,
 *   retries: number, retry_delay: number, timeout: number }} WorkflowStep
 * @typedef {{ key: string, name: string, steps: WorkflowStep[] }} Workflow
 */

/**
 * @typedef {{ attempt: number, success: boolean, error: string | null, duration_ms: number }} Attempt
 * @typedef {{ step_type: string, service: string, success: boolean, skipped: boolean, reused: boolean,
 *   duration_ms: number, error: string | null, attempts: number }} HistoryStep
 * @typedef {HistoryStep & { data: Record<string, unknown>, attempt_details: Attempt[] }} HistoryStepDetail
 * @typedef {'queued' | 'running' | 'completed' | 'cancelled' | 'interrupted'} RunStatus
 * @typedef {{ total: number, passed: number, failed: number }} TestCounts
 * @typedef {{ run_id: string, workflow_name: string, status: RunStatus, success: boolean | null,
 *   queued_at: string, started_at: string | null, completed_at: string | null,
 *   duration_ms: number | null, trigger: string, triggered_by: string | null,
 *   parent_run_id: string | null, reason: string | null, step_count: number,
 *   tests: TestCounts | null }} RunFields
 * @typedef {RunFields & { steps: HistoryStep[] }} HistoryRecord
 * @typedef {RunFields & { steps: HistoryStepDetail[] }} HistoryRecordDetail
 * @typedef {{ run_id: string, status: RunStatus, url: string }} RunAccepted
 */

/**
 * @typedef {{ test: string, failures: number, passes: number, flips: number, failure_rate: number,
 *   last_failed_at: string | null, last_failed_run_id: string | null, flaky: boolean }} TestInsight
 * @typedef {{ days: number, since: string, runs: number, succeeded: number, failed: number,
 *   cancelled: number, interrupted: number, success_rate: number | null,
 *   duration_ms: { p50: number | null, p95: number | null },
 *   tests: { total: number, failed: number, failed_rate: number | null },
 *   by_day: { date: string, runs: number, succeeded: number, failed: number,
 *     p50_ms: number | null }[] }} WorkflowStats
 * @typedef {{ workflow: string, cron: string, timezone: string, next_run_at: string | null,
 *   last_run_id: string | null }} Schedule
 */

/**
 * @typedef {{ id: number, event_type: string, timestamp: string, workflow_name: string,
 *   run_id: string, data: Record<string, unknown> }} StoredEvent
 */

/**
 * @typedef {{ url: string, events: string[], signed: boolean }} Webhook
 * @typedef {{ id: number, webhook_id: string, event_type: string, run_id: string, url: string,
 *   status: 'pending' | 'delivered' | 'failed', attempts: number, last_status_code: number | null,
 *   last_error: string | null, created_at: string, next_attempt_at: string | null,
 *   delivered_at: string | null }} Delivery
 */

export {};
