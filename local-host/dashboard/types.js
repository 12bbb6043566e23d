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
 * @typedef {{ step_type: string, service: string, success: boolean, skipped: boolean,
 *   duration_ms: number, error: string | null, attempts: number }} HistoryStep
 * @typedef {HistoryStep & { data: Record<string, unknown>, attempt_details: Attempt[] }} HistoryStepDetail
 * @typedef {'running' | 'completed' | 'interrupted'} RunStatus
 * @typedef {{ run_id: string, workflow_name: string, status: RunStatus, success: boolean | null,
 *   started_at: string, completed_at: string | null, duration_ms: number | null,
 *   step_count: number }} RunFields
 * @typedef {RunFields & { steps: HistoryStep[] }} HistoryRecord
 * @typedef {RunFields & { steps: HistoryStepDetail[] }} HistoryRecordDetail
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
