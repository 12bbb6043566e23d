import { z } from 'zod';
import { EVENT_TYPES } from '#shared/events/types.ts';
import { limitParam, oneOfParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import { ERROR_RESPONSES, eventSchema } from '#shared/http-api/schemas.ts';
import { eventStreamRoute } from './stream.ts';

export const eventsRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/events',
    access: 'read',
    tag: 'events',
    summary: 'The newest lifecycle events, newest first',
    query: z.strictObject({
      limit: limitParam(20),
      event_type: oneOfParam(EVENT_TYPES).optional(),
      workflow: z.string().min(1).optional().describe("Only this workflow's events"),
      run_id: z.string().min(1).optional().describe("Only this run's events"),
    }),
    responses: {
      200: { description: 'Events.', schema: z.array(eventSchema) },
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ query }, context) =>
      (await context.stores()).events.list({
        limit: query.limit,
        eventType: query.event_type,
        workflow: query.workflow,
        runId: query.run_id,
      }),
  }),
  eventStreamRoute,
];
