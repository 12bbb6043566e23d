import { z } from 'zod';
import { NotFoundError } from '#shared/errors.ts';
import { idParam, limitParam, oneOfParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition, reply } from '#shared/http-api/route.ts';
import { deliverySchema, ERROR_RESPONSES, webhookListingSchema } from '#shared/http-api/schemas.ts';
import { redactUrl } from '#shared/redact.ts';
import { DELIVERY_STATUSES } from '#shared/webhooks/outbox.ts';
import { webhookSecrets } from '#shared/webhooks/sign.ts';

export const webhooksRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/api/webhooks',
    access: 'read',
    tag: 'webhooks',
    summary: 'The configured webhooks (never their secrets)',
    configOnly: true,
    responses: {
      200: { description: 'Webhooks, in config order.', schema: z.array(webhookListingSchema) },
    },
    handle: (_input, { config }) =>
      config.webhooks.map((w) => ({
        url: redactUrl(w.url),
        events: w.events,
        signed: webhookSecrets(w.secret).length > 0,
      })),
  }),
  defineRoute({
    method: 'get',
    path: '/api/webhooks/deliveries',
    access: 'read',
    tag: 'webhooks',
    summary: 'The webhook outbox, newest first',
    query: z.strictObject({
      status: oneOfParam(DELIVERY_STATUSES).optional(),
      limit: limitParam(50),
    }),
    responses: {
      200: { description: 'Deliveries.', schema: z.array(deliverySchema) },
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ query }, context) =>
      (await context.stores()).outbox.list({ status: query.status, limit: query.limit }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/webhooks/deliveries/{id}/redeliver',
    access: 'admin',
    tag: 'webhooks',
    summary: 'Queue a delivery again, due now, with the same webhook-id',
    description: "A redelivery starts a fresh round of attempts, whatever the delivery's state.",
    params: z.object({ id: idParam }),
    responses: {
      202: { description: 'Queued; the delivery as it now stands.', schema: deliverySchema },
      404: ERROR_RESPONSES[404],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params }, context) => {
      const delivery = await (await context.stores()).outbox.redeliver(params.id);
      if (!delivery) throw new NotFoundError(`no webhook delivery with id ${params.id}`);
      context.signals.emit('deliveriesQueued', delivery.run_id);
      return reply(202, delivery);
    },
  }),
];
