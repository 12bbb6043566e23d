import { BadRequestError, UnauthorizedError } from '#shared/errors.ts';
import { verifyStandardWebhook } from '#shared/triggers/verify.ts';
import { type DemoRequest, isObject, objectBody } from './json-service.ts';

export interface ReceivedWebhook {
  received_at: string;
  webhook_id: string | null;
  webhook_timestamp: string | null;
  event_type: string;
  workflow_name: string | null;
  run_id: string | null;
  /** Always "verified": a delivery whose signature does not verify is refused. */
  signature: 'verified';
  user_agent: string | null;
  data: Record<string, unknown>;
}

/** The newest deliveries kept, so a demo left running does not grow without bound. */
const MAX_DELIVERIES = 200;

/** Webhook deliveries from Aegis, kept in memory so a newcomer can watch them arrive. */
export class WebhookInbox {
  readonly #received: ReceivedWebhook[] = [];
  readonly #secret: string;
  readonly #now: () => Date;

  /** Deliveries must carry a valid Standard Webhooks signature made with `secret`. */
  constructor(secret: string, now: () => Date = () => new Date()) {
    this.#secret = secret;
    this.#now = now;
  }

  receive(request: DemoRequest): ReceivedWebhook {
    const now = this.#now();
    try {
      // The verifier of Aegis's own inbound triggers: the same format as the deliveries it signs.
      verifyStandardWebhook(
        this.#secret,
        request.headers,
        Buffer.from(request.rawBody, 'utf8'),
        Math.floor(now.getTime() / 1000),
      );
    } catch (error) {
      if (error instanceof UnauthorizedError)
        throw new UnauthorizedError(`webhook rejected: ${error.message}`);
      throw error;
    }
    const body = objectBody(request);
    if (typeof body.event_type !== 'string')
      throw new BadRequestError('webhook body must have an "event_type" string');
    const delivery: ReceivedWebhook = {
      received_at: now.toISOString(),
      webhook_id: header(request, 'webhook-id'),
      webhook_timestamp: header(request, 'webhook-timestamp'),
      event_type: body.event_type,
      workflow_name: typeof body.workflow_name === 'string' ? body.workflow_name : null,
      run_id: typeof body.run_id === 'string' ? body.run_id : null,
      signature: 'verified',
      user_agent: header(request, 'user-agent'),
      data: isObject(body.data) ? body.data : {},
    };
    this.#received.unshift(delivery);
    this.#received.length = Math.min(this.#received.length, MAX_DELIVERIES);
    return delivery;
  }

  /** Newest first. */
  list(): ReceivedWebhook[] {
    return [...this.#received];
  }
}

function header(request: DemoRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' ? value : null;
}
