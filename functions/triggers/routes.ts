import { z } from 'zod';
import type { TriggerConfig } from '#shared/config/schema.ts';
import type { AegisContext } from '#shared/context.ts';
import { NotFoundError } from '#shared/errors.ts';
import { nameParam } from '#shared/http-api/params.ts';
import { defineRoute, type RouteDefinition, reply } from '#shared/http-api/route.ts';
import { ERROR_RESPONSES, runAcceptedSchema } from '#shared/http-api/schemas.ts';
import { deliveryClaim } from '#shared/triggers/delivery-store.ts';
import { receiveDelivery } from '#shared/triggers/receive.ts';
import { acceptedReply } from '../workflows/routes.ts';

const triggerAnswerSchema = z
  .union([
    z.object({ pong: z.literal(true) }).describe("GitHub's ping, when the webhook is created"),
    z
      .object({ ignored: z.string() })
      .describe("Filtered out by the trigger's events or branches: nothing started"),
    runAcceptedSchema.describe('A redelivery: the run the first delivery started'),
  ])
  .meta({ id: 'TriggerAnswer' });

/** The trigger, or a 404 that names no other (the route is public: it does not list them). */
function findTrigger(context: AegisContext, name: string): TriggerConfig {
  const trigger = Object.hasOwn(context.config.triggers, name)
    ? context.config.triggers[name]
    : undefined;
  if (!trigger) throw new NotFoundError(`no trigger named "${name}"`);
  return trigger;
}

export const triggersRoutes: readonly RouteDefinition[] = [
  defineRoute({
    method: 'post',
    path: '/api/triggers/{name}',
    access: 'public',
    bodyKind: 'raw',
    tag: 'triggers',
    summary: 'Start a workflow from a signed webhook (GitHub, Standard Webhooks)',
    description: `Authenticated by its signature over the exact body, never by an API key.
\`source: github\`: \`X-Hub-Signature-256\`, \`X-GitHub-Event\` (in the trigger's \`events\`, default push; \`ping\` answers \`{"pong": true}\`),
the branch of a push's \`ref\` in \`branches\` when given, \`X-GitHub-Delivery\` as the delivery id.
\`source: standard\`: \`webhook-id\` (the delivery id), \`webhook-timestamp\` (within 5 minutes), \`webhook-signature\`
(any matching \`v1,\` entry); \`events\` filters the body's \`type\` when given.
A new delivery queues a run (\`trigger: trigger:<name>\`) and answers 202; the same delivery id again answers 200 with
that run and starts nothing.`,
    params: z.object({ name: nameParam }),
    headers: {
      'X-Hub-Signature-256': 'github: sha256=<hex HMAC-SHA256(secret, body)>',
      'X-GitHub-Event': 'github: the event (push, ping, …)',
      'X-GitHub-Delivery': 'github: the delivery id',
      'webhook-id': 'standard: the delivery id',
      'webhook-timestamp': 'standard: Unix seconds, within 5 minutes of now',
      'webhook-signature':
        'standard: v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>, space-separated',
    },
    responses: {
      200: {
        description: 'A ping, a delivery the filters left out, or a redelivery (its first run).',
        schema: triggerAnswerSchema,
      },
      202: {
        description: 'The run is queued; poll its url.',
        schema: runAcceptedSchema,
        headers: { Location: 'The run: /api/runs/{run_id}' },
      },
      401: {
        description: 'The signature is missing or wrong, or the timestamp is stale.',
        schema: ERROR_RESPONSES[401].schema,
      },
      404: { description: 'No trigger of that name.', schema: ERROR_RESPONSES[404].schema },
      409: ERROR_RESPONSES[409],
      503: ERROR_RESPONSES[503],
    },
    handle: async ({ params, rawBody }, context, req) => {
      const trigger = findTrigger(context, params.name);
      const delivery = receiveDelivery(trigger, req.headers, rawBody);
      const fields = { trigger: params.name, request_id: req.requestId };
      if (delivery.kind === 'ping') return { pong: true };
      if (delivery.kind === 'ignored') {
        context.logger.info('trigger delivery ignored', { ...fields, reason: delivery.reason });
        return { ignored: delivery.reason };
      }
      const runs = await context.runs();
      const started = await runs.start(trigger.workflow, {
        trigger: `trigger:${params.name}`,
        triggeredBy: null,
        dedupe: deliveryClaim(params.name, delivery.deliveryId),
      });
      context.logger.info(
        started.existing ? 'trigger redelivery: run already started' : 'trigger: run queued',
        {
          ...fields,
          delivery_id: delivery.deliveryId,
          event: delivery.event,
          workflow: trigger.workflow,
          run_id: started.runId,
        },
      );
      if (!started.existing) return acceptedReply(started.runId);
      const { history } = await context.stores();
      // A run that is gone was deleted by retention, which deletes ended runs only.
      const status = (await history.statusOf(started.runId)) ?? 'completed';
      const url = `/api/runs/${started.runId}`;
      return reply(200, { run_id: started.runId, status, url }, { location: url });
    },
  }),
];
