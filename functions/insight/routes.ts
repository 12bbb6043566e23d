import { z } from 'zod';
import { findWorkflow } from '#shared/config/lookup.ts';
import {
  booleanParam,
  integerParam,
  limitParam,
  nameParam,
  offsetParam,
} from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import {
  ERROR_RESPONSES,
  testInsightSchema,
  workflowStatsSchema,
} from '#shared/http-api/schemas.ts';
import { MAX_DAYS, MAX_WINDOW } from '#shared/insight/insight-store.ts';

const byName = z.object({ name: nameParam });

export const insightRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/workflows/{name}/tests',
    access: 'read',
    tag: 'insight',
    summary: "A workflow's tests over its last runs: failures, passes, flips and the flaky ones",
    description: `Each test seen in the workflow's last \`window\` runs that ran tests: in how many it failed and passed
(a run's outcome for a test is failed when any of its steps failed it), how often its outcome changed from one
run to the next (\`flips\`), and \`flaky\`: it both passed and failed with at least 2 flips, or in one run it
failed in a test step and passed in a later verify step with no submit_bugs step between them that handed it on.
Flaky tests first, then by failure rate.`,
    params: byName,
    query: z.strictObject({
      window: integerParam({ min: 1, max: MAX_WINDOW, fallback: 50 }).describe(
        "how many of the workflow's newest runs with tests to look at",
      ),
      flaky: booleanParam.optional().describe('true: only the flaky tests; false: only the others'),
      limit: limitParam(50),
      offset: offsetParam,
    }),
    responses: {
      200: { description: 'The tests, flaky first.', schema: z.array(testInsightSchema) },
      404: ERROR_RESPONSES[404],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, query }, context) => {
      findWorkflow(context.config, params.name);
      return (await context.stores()).insight.tests(params.name, query);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/workflows/{name}/stats',
    access: 'read',
    tag: 'insight',
    summary: "A workflow's trends: outcomes, durations and test failures, per UTC day",
    description: `Over the runs queued in the last \`days\` UTC days, today included, that have ended.
\`success_rate\` is succeeded / (succeeded + failed); durations are of completed runs, nearest-rank percentiles
read from a per-day histogram (exact when at most two runs share a bucket of two significant digits).
\`by_day\` has every day of the period, oldest first.`,
    params: byName,
    query: z.strictObject({
      days: integerParam({ min: 1, max: MAX_DAYS, fallback: 30 }).describe(
        'how many UTC days, today included',
      ),
    }),
    responses: {
      200: { description: "The workflow's trends.", schema: workflowStatsSchema },
      404: ERROR_RESPONSES[404],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, query }, context) => {
      findWorkflow(context.config, params.name);
      return (await context.stores()).insight.stats(params.name, { days: query.days });
    },
  }),
];
