import { z } from 'zod';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import { ERROR_RESPONSES } from '#shared/http-api/schemas.ts';
import { listSchedules, type ScheduleListing } from '#shared/schedules/listing.ts';

export const scheduleSchema: z.ZodType<ScheduleListing> = z
  .object({
    workflow: z.string(),
    cron: z.string(),
    timezone: z.string(),
    next_run_at: z
      .string()
      .nullable()
      .describe('the next tick (ISO 8601, UTC); null when none is left'),
    last_run_id: z
      .string()
      .nullable()
      .describe('the run of its newest tick, queued by whichever process; null before the first'),
  })
  .meta({ id: 'Schedule' });

export const schedulesRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/schedules',
    access: 'read',
    tag: 'schedules',
    summary: "Every workflow's schedule: each cron expression, its next tick and its last run",
    responses: {
      200: {
        description: 'One entry per expression, in config order.',
        schema: z.array(scheduleSchema),
      },
      503: ERROR_RESPONSES[503],
    },
    handle: async (_input, context) => {
      // No schedule, no database needed.
      if (Object.values(context.config.workflows).every((w) => w.schedule.length === 0)) return [];
      return listSchedules(context.config, (await context.stores()).db);
    },
  }),
];
