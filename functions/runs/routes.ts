import { z } from 'zod';
import { ConflictError, NotFoundError } from '#shared/errors.ts';
import { historyQuery, nameParam, secondsParam } from '#shared/http-api/params.ts';
import { defineRoute, jsonText, type RouteDefinition, reply } from '#shared/http-api/route.ts';
import {
  ERROR_RESPONSES,
  historyRecordDetailSchema,
  historyRecordSchema,
  runAcceptedSchema,
} from '#shared/http-api/schemas.ts';
import { acceptedReply, idempotencyKeyOf } from '../workflows/routes.ts';

const byId = z.object({ run_id: nameParam });

/** SPEC §11: `?wait=S`, 0 < S ≤ 60. */
const MAX_WAIT_S = 60;

export const runsRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/history',
    access: 'read',
    tag: 'history',
    summary: 'The newest runs of all workflows',
    query: historyQuery(10),
    direct: true,
    responses: {
      200: { description: 'History records, newest first.', schema: z.array(historyRecordSchema) },
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ query }, context) =>
      jsonText(await (await context.stores()).history.listRunsJson(query)),
  }),
  defineRoute({
    method: 'get',
    path: '/api/runs/{run_id}',
    access: 'read',
    tag: 'runs',
    summary: 'One run, with its steps, their data and every attempt',
    description:
      'With `?wait=S` (0 < S ≤ 60) the answer comes as soon as the run has ended, or after S seconds with the run as it then stands.',
    params: byId,
    query: z.strictObject({
      wait: secondsParam({ max: MAX_WAIT_S })
        .optional()
        .describe('seconds to wait for the run to end (0 < S ≤ 60)'),
    }),
    responses: {
      200: { description: 'The history record.', schema: historyRecordDetailSchema },
      404: ERROR_RESPONSES[404],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, query }, context) => {
      if (query.wait !== undefined) {
        const ended = await (await context.runs()).waitForEnd(params.run_id, query.wait * 1000);
        if (ended) return ended.record;
      }
      const run = await (await context.stores()).history.getRun(params.run_id);
      if (!run) throw new NotFoundError(`no run with id "${params.run_id}"`);
      return run;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/runs/{run_id}/cancel',
    access: 'run',
    tag: 'runs',
    summary: 'Cancel a run: at once while queued; a running one stops within a second',
    description:
      'A running run has its in-flight requests aborted and starts no further step, wherever it runs; it ends `cancelled` with the steps that finished, and emits `workflow.cancelled`.',
    params: byId,
    responses: {
      202: {
        description: 'Cancelled, or asked to stop: the run as it now stands.',
        schema: historyRecordDetailSchema,
      },
      404: ERROR_RESPONSES[404],
      409: { description: 'The run has already ended.', schema: ERROR_RESPONSES[409].schema },
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, caller }, context) => {
      const runs = await context.runs();
      const reason = caller ? `cancelled by ${caller.name}` : 'cancelled through the API';
      const outcome = await runs.cancel(params.run_id, reason);
      if (outcome.kind === 'missing') throw new NotFoundError(`no run with id "${params.run_id}"`);
      if (outcome.kind === 'ended')
        throw new ConflictError(`run ${params.run_id} has already ended (${outcome.status})`);
      const run = await (await context.stores()).history.getRun(params.run_id);
      return reply(202, run);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/runs/{run_id}/rerun',
    access: 'run',
    tag: 'runs',
    summary: 'Rerun an ended run, from its first failed step (default) or from the start',
    description:
      'From `failed`, the steps before the first step that failed (or was interrupted or cancelled) are copied from the parent, marked `reused`, and not called again. The parent is never changed.',
    params: byId,
    headers: { 'Idempotency-Key': 'a retry with the same key answers the same rerun' },
    body: z
      .strictObject({ from: z.enum(['failed', 'start']).default('failed') })
      .optional()
      .transform((body) => body ?? { from: 'failed' as const }),
    responses: {
      202: {
        description: 'The rerun, queued.',
        schema: runAcceptedSchema,
        headers: { Location: 'The rerun: /api/runs/{run_id}' },
      },
      404: ERROR_RESPONSES[404],
      409: { description: 'The run has not ended yet.', schema: ERROR_RESPONSES[409].schema },
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, body, caller }, context, req) => {
      const runs = await context.runs();
      const started = await runs.rerun(params.run_id, body.from, {
        triggeredBy: caller?.name ?? null,
        idempotencyKey: idempotencyKeyOf(req),
      });
      return acceptedReply(started.runId);
    },
  }),
];
