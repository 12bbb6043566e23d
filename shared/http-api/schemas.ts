import { z } from 'zod';
import { CONDITIONS, EVENT_TYPES, STEP_TYPES } from '../config/schema.ts';
import type { StoredEvent } from '../events/event-store.ts';
import type { HistoryRecord, HistoryRecordDetail } from '../history/history-store.ts';
import type { TestInsight, WorkflowStats } from '../insight/insight-store.ts';
import type { RunTrigger } from '../runs/run-queue.ts';
import { RUN_STATUSES } from '../runs/run-queue.ts';
import { HEALTH_STATUSES, type ServiceHealth } from '../services/health.ts';
import type { ServiceListing } from '../services/listing.ts';
import { DELIVERY_STATUSES, type Delivery } from '../webhooks/outbox.ts';
import type { RunResult } from '../workflow/types.ts';

/*
 * The shapes the API answers with, for the OpenAPI document. Each is typed
 * against the core's own type, so the compiler fails when the two differ.
 */

export const errorSchema = z
  .object({ error: z.string(), message: z.string() })
  .meta({ id: 'Error' });

export const healthSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    uptime_seconds: z.number(),
    services_configured: z.number().int(),
    workflows_configured: z.number().int(),
  })
  .meta({ id: 'Health' });

export const serviceListingSchema: z.ZodType<ServiceListing> = z
  .object({
    key: z.string(),
    name: z.string(),
    description: z.string(),
    url: z.string(),
    features: z.array(z.string()),
    status: z.enum(HEALTH_STATUSES),
    latency_ms: z.number(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Service' });

export const serviceHealthSchema: z.ZodType<ServiceHealth> = z
  .object({
    service: z.string(),
    healthy: z.boolean(),
    status: z.enum(HEALTH_STATUSES),
    status_code: z.number().int().nullable(),
    latency_ms: z.number(),
    error: z.string().nullable(),
  })
  .meta({ id: 'ServiceHealth' });

export const portfolioSchema = z
  .object({
    name: z.string(),
    tagline: z.string(),
    version: z.string(),
    tools: z.array(
      z.object({
        key: z.string(),
        name: z.string(),
        description: z.string(),
        features: z.array(z.string()),
        repo_url: z.string(),
        docs_url: z.string(),
      }),
    ),
    workflows: z.array(z.string()),
  })
  .meta({ id: 'Portfolio' });

export const workflowDefinitionSchema = z
  .object({
    key: z.string(),
    name: z.string(),
    steps: z.array(
      z.object({
        type: z.enum(STEP_TYPES),
        service: z.string(),
        condition: z.enum(CONDITIONS).nullable(),
        parallel: z.boolean(),
        retries: z.number().int(),
        retry_delay: z.number(),
        timeout: z.number(),
      }),
    ),
  })
  .meta({ id: 'Workflow' });

const attemptSchema = z.object({
  attempt: z.number().int(),
  success: z.boolean(),
  error: z.string().nullable(),
  duration_ms: z.number(),
});

export const runResultSchema: z.ZodType<RunResult> = z
  .object({
    run_id: z.string(),
    workflow_name: z.string(),
    status: z.enum(['completed', 'cancelled', 'interrupted']),
    success: z.boolean(),
    reason: z.string().nullable(),
    started_at: z.string(),
    completed_at: z.string(),
    duration_ms: z.number(),
    steps: z.array(
      z.object({
        step_type: z.enum(STEP_TYPES),
        service: z.string(),
        success: z.boolean(),
        skipped: z.boolean(),
        data: z.record(z.string(), z.unknown()),
        error: z.string().nullable(),
        duration_ms: z.number(),
        attempts: z.array(attemptSchema),
        reused: z.boolean().optional(),
      }),
    ),
  })
  .meta({ id: 'RunResult' });

/** What starting a run asynchronously (or a rerun, or a trigger) answers: 202 with `Location`. */
export const runAcceptedSchema = z
  .object({
    run_id: z.string(),
    status: z.enum(RUN_STATUSES),
    url: z.string(),
  })
  .meta({ id: 'RunAccepted' });

const historyStepSchema = z.object({
  step_type: z.enum(STEP_TYPES),
  service: z.string(),
  success: z.boolean(),
  skipped: z.boolean(),
  reused: z.boolean(),
  duration_ms: z.number(),
  error: z.string().nullable(),
  attempts: z.number().int(),
});

const historyRunFields = {
  run_id: z.string(),
  workflow_name: z.string(),
  status: z.enum(RUN_STATUSES),
  success: z.boolean().nullable(),
  queued_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  trigger: z
    .custom<RunTrigger>((value) => typeof value === 'string')
    .meta({
      type: 'string',
      description: 'api, cli, schedule, rerun, lambda or trigger:<name>',
    }),
  triggered_by: z.string().nullable(),
  parent_run_id: z.string().nullable(),
  reason: z.string().nullable(),
  trace_id: z.string().nullable(),
  step_count: z.number().int(),
  tests: z
    .object({ total: z.number(), passed: z.number(), failed: z.number() })
    .nullable()
    .describe(
      "what the run's test steps counted (of its verify steps when it has no test step); null when none answered",
    ),
};

export const historyRecordSchema: z.ZodType<HistoryRecord> = z
  .object({ ...historyRunFields, steps: z.array(historyStepSchema) })
  .meta({ id: 'HistoryRecord' });

export const historyRecordDetailSchema: z.ZodType<HistoryRecordDetail> = z
  .object({
    ...historyRunFields,
    steps: z.array(
      historyStepSchema.extend({
        attempt_details: z.array(attemptSchema),
        data: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .meta({ id: 'HistoryRecordDetail' });

export const eventSchema: z.ZodType<StoredEvent> = z
  .object({
    id: z.number().int(),
    event_type: z.enum(EVENT_TYPES),
    timestamp: z.string(),
    workflow_name: z.string(),
    run_id: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });

export const webhookListingSchema = z
  .object({ url: z.string(), events: z.array(z.string()), signed: z.boolean() })
  .meta({ id: 'Webhook' });

export const deliverySchema: z.ZodType<Delivery> = z
  .object({
    id: z.number().int(),
    webhook_id: z.string(),
    event_type: z.string(),
    run_id: z.string(),
    url: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
  })
  .meta({ id: 'Delivery' });

export const testInsightSchema: z.ZodType<TestInsight> = z
  .object({
    test: z.string(),
    failures: z.number().int().describe('runs of the window where it failed'),
    passes: z.number().int().describe('runs of the window where it passed and did not fail'),
    flips: z
      .number()
      .int()
      .describe('runs whose outcome differs from the previous run where it was seen'),
    failure_rate: z.number().describe('failures / (failures + passes)'),
    last_failed_at: z.string().nullable().describe('when the newest run where it failed started'),
    last_failed_run_id: z.string().nullable(),
    flaky: z.boolean(),
  })
  .meta({ id: 'TestInsight' });

export const workflowStatsSchema: z.ZodType<WorkflowStats> = z
  .object({
    days: z.number().int(),
    since: z.string().describe('the first UTC date counted'),
    runs: z.number().int().describe('runs that ended: completed, cancelled or interrupted'),
    succeeded: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    interrupted: z.number().int(),
    success_rate: z.number().nullable().describe('succeeded / (succeeded + failed)'),
    duration_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
    tests: z.object({
      total: z.number(),
      failed: z.number(),
      failed_rate: z.number().nullable().describe('failed / total, as the agents counted them'),
    }),
    by_day: z.array(
      z.object({
        date: z.string(),
        runs: z.number().int(),
        succeeded: z.number().int(),
        failed: z.number().int(),
        p50_ms: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'WorkflowStats' });

/** The answers routes give for the same reasons, described once; the OpenAPI document adds them by what a route takes. */
export const ERROR_RESPONSES = {
  400: {
    description: 'A bad parameter, header or body; the message says which and why.',
    schema: errorSchema,
  },
  401: {
    description: 'Auth is on and X-API-Key is missing or unknown.',
    schema: errorSchema,
  },
  403: {
    description: "The key lacks the operation's scope (the message names the key and the scope).",
    schema: errorSchema,
  },
  404: { description: 'No such workflow, service, run or delivery.', schema: errorSchema },
  409: {
    description: 'The request conflicts with the state of the run or workflow.',
    schema: errorSchema,
  },
  413: { description: 'The body is over 1 MiB (1,048,576 bytes).', schema: errorSchema },
  415: { description: 'The body is not of a type this operation takes.', schema: errorSchema },
  500: {
    description: 'An unexpected error (no details are given; the request id is in the logs).',
    schema: errorSchema,
  },
  503: { description: 'The history database is not available.', schema: errorSchema },
} as const;
