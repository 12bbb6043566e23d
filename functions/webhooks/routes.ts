import { z } from 'zod';
import { NotFoundError } from '#shared/errors.ts';
import { integerParam, limitParam, oneOfParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition } from '#shared/http-api/route.ts';
import {
  deliverySchema,
  ERROR_RESPONSES,
  errorSchema,
  webhookListingSchema,
} from '#shared/http-api/schemas.ts';
import { DELIVERY_STATUSES } from '#shared/webhooks/outbox.ts';

const unavailable = { description: 'The history database is not available.', schema: errorSchema };

export const webhooksRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/webhooks',
    tag: 'webhooks',
    summary: 'The configured webhooks (never their secrets)',
    responses: {
      200: { description: 'Webhooks, in config order.', schema: z.array(webhookListingSchema) },
      500: ERROR_RESPONSES[500],
    },
    handle: (_input, { config }) =>
      config.webhooks.map((w) => ({ url: w.url, events: w.events, signed: w.secret !== '' })),
  }),
  defineRoute({
    method: 'get',
    path: '/api/webhooks/deliveries',
    tag: 'webhooks',
    summary: 'The webhook outbox, newest first',
    query: z.strictObject({
      status: oneOfParam(DELIVERY_STATUSES).optional(),
      limit: limitParam(50),
    }),
    responses: {
      200: { description: 'Deliveries.', schema: z.array(deliverySchema) },
      400: ERROR_RESPONSES[400],
      500: ERROR_RESPONSES[500],
      503: unavailable,
    },
    handle: async ({ query }, context) =>
      (await context.stores()).outbox.list({ status: query.status, limit: query.limit }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/webhooks/deliveries/{id}/redeliver',
    tag: 'webhooks',
    summary: 'Queue a delivery again, due now, with the same webhook-id',
    description:
      'Needs X-API-Key when auth is on. A delivered or failed delivery starts a fresh round of attempts.',
    params: z.object({ id: integerParam({ min: 1, fallback: 0 }) }),
    responses: {
      202: { description: 'Queued; the delivery as it now stands.', schema: deliverySchema },
      400: ERROR_RESPONSES[400],
      401: { description: 'Auth is on and X-API-Key is missing or wrong.', schema: errorSchema },
      404: { description: 'No such delivery.', schema: errorSchema },
      500: ERROR_RESPONSES[500],
      503: unavailable,
    },
    handle: async ({ params }, context) => {
      const delivery = await (await context.stores()).outbox.redeliver(params.id);
      if (!delivery) throw new NotFoundError(`no webhook delivery with id ${params.id}`);
      context.onDeliveriesQueued(delivery.run_id);
      return { status: 202, body: delivery };
    },
  }),
];
