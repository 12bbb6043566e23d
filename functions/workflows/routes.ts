import type { Request } from 'express';
import { z } from 'zod';
import { findWorkflow } from '#shared/config/lookup.ts';
import type { WorkflowConfig } from '#shared/config/schema.ts';
import type { AegisContext } from '#shared/context.ts';
import { BadRequestError } from '#shared/errors.ts';
import { booleanParam, historyQuery, nameParam } from '#shared/http-api/params.ts';
import { defineRoute, jsonText, type RouteDefinition, reply } from '#shared/http-api/route.ts';
import {
  ERROR_RESPONSES,
  historyRecordSchema,
  runAcceptedSchema,
  runResultSchema,
  workflowDefinitionSchema,
} from '#shared/http-api/schemas.ts';
import { type RunService, runResultOf } from '#shared/runs/run-service.ts';
import { continuedTrace } from '#shared/trace.ts';

function describeWorkflow(key: string, workflow: WorkflowConfig) {
  return {
    key,
    name: workflow.name,
    steps: workflow.steps.map((step) => ({
      type: step.type,
      service: step.service,
      condition: step.condition ?? null,
      parallel: step.parallel,
      retries: step.retries,
      retry_delay: step.retry_delay,
      timeout: step.timeout,
    })),
  };
}

const byName = z.object({ name: nameParam });

/** RFC 7240: `Prefer: respond-async` (among other preferences, any case). */
function prefersAsync(req: Request): boolean {
  const prefer = req.headers.prefer;
  return (typeof prefer === 'string' ? prefer : '')
    .split(',')
    .some((preference) => preference.split(';')[0]?.trim().toLowerCase() === 'respond-async');
}

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/;

/** The `Idempotency-Key` header, when sent: 1–200 printable ASCII characters. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))
    throw new BadRequestError(
      'header Idempotency-Key: must be 1 to 200 printable ASCII characters, sent once',
    );
  return key;
}

/** `202 {run_id, status, url}` with `Location`: a run accepted, to be polled at its url. */
export function acceptedReply(runId: string, status = 'queued') {
  const url = `/api/runs/${runId}`;
  return reply(202, { run_id: runId, status, url }, { location: url });
}

/** A run's result, once it has ended: executed here when this process runs its own runs, waited for otherwise. */
export function resultOf(runs: RunService, context: AegisContext, runId: string) {
  return context.runExecution === 'inline' ? runs.execute(runId) : runs.result(runId);
}

export const workflowsRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/workflows',
    access: 'read',
    tag: 'workflows',
    summary: 'The workflow definitions',
    configOnly: true,
    responses: {
      200: {
        description: 'Every workflow, in config order.',
        schema: z.array(workflowDefinitionSchema),
      },
    },
    handle: (_input, { config }) =>
      Object.entries(config.workflows).map(([key, workflow]) => describeWorkflow(key, workflow)),
  }),
  defineRoute({
    method: 'get',
    path: '/api/workflows/{name}',
    access: 'read',
    tag: 'workflows',
    summary: 'One workflow definition',
    params: byName,
    configOnly: true,
    responses: {
      200: { description: 'The workflow.', schema: workflowDefinitionSchema },
      404: ERROR_RESPONSES[404],
    },
    handle: ({ params }, { config }) =>
      describeWorkflow(params.name, findWorkflow(config, params.name)),
  }),
  defineRoute({
    method: 'post',
    path: '/api/workflows/{name}/run',
    access: 'run',
    tag: 'runs',
    summary: 'Start a run: answer with its result, or at once with `Prefer: respond-async`',
    description: `By default the answer is 200 with the run's result when it has ended, whether or not it succeeded.
With \`Prefer: respond-async\` (RFC 7240) or \`?async=true\` it is 202 at once, with \`Location\` to poll.
An \`Idempotency-Key\` header (1–200 printable ASCII characters) makes the request safe to retry: for 24 h
the same key answers the run it started, and never starts a second one; the same key for another workflow is a 409.
A workflow's \`concurrency.on_conflict: reject\` answers 409 when it is at its limit.`,
    params: byName,
    headers: {
      Prefer: '`respond-async` (RFC 7240): answer 202 at once',
      'Idempotency-Key':
        '1–200 printable ASCII characters: a retry with the same key answers the same run',
      traceparent:
        'W3C Trace Context: the run continues this trace (its calls carry it); a malformed one is ignored',
    },
    query: z.strictObject({
      async: booleanParam.optional().describe('true: answer 202 at once, as Prefer: respond-async'),
    }),
    body: z
      .record(z.string(), z.unknown(), { error: 'must be a JSON object (or empty)' })
      .optional(),
    responses: {
      200: { description: 'The run has ended: its result.', schema: runResultSchema },
      202: {
        description: 'Queued (asynchronous start); poll the url, or GET it with ?wait=S.',
        schema: runAcceptedSchema,
        headers: { Location: 'The run: /api/runs/{run_id}' },
      },
      404: ERROR_RESPONSES[404],
      409: ERROR_RESPONSES[409],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, query, caller }, context, req) => {
      findWorkflow(context.config, params.name);
      const idempotencyKey = idempotencyKeyOf(req);
      const runs = await context.runs();
      const started = await runs.start(params.name, {
        trigger: context.apiTrigger,
        triggeredBy: caller?.name ?? null,
        idempotencyKey,
        trace: continuedTrace(req.headers), // a malformed traceparent starts a new trace, never a 400
      });
      if (query.async === true || prefersAsync(req)) {
        const ended = started.existing ? await runs.waitForEnd(started.runId, 0) : null;
        if (ended) return ended.result ?? runResultOf(ended.record);
        const status = started.existing
          ? ((await (await context.stores()).history.statusOf(started.runId)) ?? 'queued')
          : 'queued';
        const accepted = acceptedReply(started.runId, status);
        accepted.headers = { ...accepted.headers, 'preference-applied': 'respond-async' };
        return accepted;
      }
      return resultOf(runs, context, started.runId);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/workflows/{name}/history',
    access: 'read',
    tag: 'history',
    summary: "One workflow's runs, newest first",
    params: byName,
    query: historyQuery(50),
    responses: {
      200: { description: 'History records.', schema: z.array(historyRecordSchema) },
      404: ERROR_RESPONSES[404],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, query }, context) => {
      findWorkflow(context.config, params.name);
      const { history } = await context.stores();
      return jsonText(await history.listRunsJson({ workflow: params.name, ...query }));
    },
  }),
];
