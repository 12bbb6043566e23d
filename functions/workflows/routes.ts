import { z } from 'zod';
import type { WorkflowConfig } from '#shared/config/schema.ts';
import { NotFoundError } from '#shared/errors.ts';
import { limitParam, nameParam, offsetParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import {
  ERROR_RESPONSES,
  errorSchema,
  historyRecordDetailSchema,
  historyRecordSchema,
  runResultSchema,
  workflowDefinitionSchema,
} from '#shared/http-api/schemas.ts';
import { findWorkflow } from '#shared/runs/execute-run.ts';

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

const notFound = { description: 'No such workflow.', schema: errorSchema };
const byName = z.object({ name: nameParam });

export const workflowsRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/workflows',
    tag: 'workflows',
    summary: 'The workflow definitions',
    responses: {
      200: {
        description: 'Every workflow, in config order.',
        schema: z.array(workflowDefinitionSchema),
      },
      500: ERROR_RESPONSES[500],
    },
    handle: (_input, { config }) =>
      Object.entries(config.workflows).map(([key, workflow]) => describeWorkflow(key, workflow)),
  }),
  defineRoute({
    method: 'get',
    path: '/api/workflows/{name}',
    tag: 'workflows',
    summary: 'One workflow definition',
    params: byName,
    responses: {
      200: { description: 'The workflow.', schema: workflowDefinitionSchema },
      404: notFound,
      500: ERROR_RESPONSES[500],
    },
    handle: ({ params }, { config }) =>
      describeWorkflow(params.name, findWorkflow(config, params.name)),
  }),
  defineRoute({
    method: 'post',
    path: '/api/workflows/{name}/run',
    tag: 'workflows',
    summary: 'Run a workflow and answer with its result',
    description:
      'Answers 200 with the result whether or not the run succeeded. Needs X-API-Key when auth is on.',
    params: byName,
    responses: {
      200: { description: 'The run result.', schema: runResultSchema },
      401: { description: 'Auth is on and X-API-Key is missing or wrong.', schema: errorSchema },
      404: notFound,
      500: ERROR_RESPONSES[500],
      503: { description: 'The history database is not available.', schema: errorSchema },
    },
    handle: ({ params }, context) => context.runWorkflow(params.name),
  }),
  defineRoute({
    method: 'get',
    path: '/api/workflows/{name}/history',
    tag: 'history',
    summary: "One workflow's runs, newest first",
    params: byName,
    query: z.strictObject({ limit: limitParam(50), offset: offsetParam }),
    responses: {
      200: { description: 'History records.', schema: z.array(historyRecordSchema) },
      400: ERROR_RESPONSES[400],
      404: notFound,
      500: ERROR_RESPONSES[500],
      503: { description: 'The history database is not available.', schema: errorSchema },
    },
    handle: async ({ params, query }, context) => {
      findWorkflow(context.config, params.name);
      const { history } = await context.stores();
      return history.listRuns({ workflow: params.name, limit: query.limit, offset: query.offset });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/history',
    tag: 'history',
    summary: 'The newest runs of all workflows',
    query: z.strictObject({ limit: limitParam(10), offset: offsetParam }),
    responses: {
      200: { description: 'History records, newest first.', schema: z.array(historyRecordSchema) },
      400: ERROR_RESPONSES[400],
      500: ERROR_RESPONSES[500],
      503: { description: 'The history database is not available.', schema: errorSchema },
    },
    handle: async ({ query }, context) =>
      (await context.stores()).history.listRuns({ limit: query.limit, offset: query.offset }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/runs/{run_id}',
    tag: 'history',
    summary: 'One run, with its steps, their data and every attempt',
    params: z.object({ run_id: nameParam }),
    responses: {
      200: { description: 'The history record.', schema: historyRecordDetailSchema },
      404: { description: 'No such run.', schema: errorSchema },
      500: ERROR_RESPONSES[500],
      503: { description: 'The history database is not available.', schema: errorSchema },
    },
    handle: async ({ params }, context) => {
      const run = await (await context.stores()).history.getRun(params.run_id);
      if (!run) throw new NotFoundError(`no run with id "${params.run_id}"`);
      return run;
    },
  }),
];
