import type { IncomingHttpHeaders } from 'node:http';
import type { TriggerConfig } from '../config/schema.ts';
import { BadRequestError } from '../errors.ts';
import { header, verifyGithubSignature, verifyStandardWebhook } from './verify.ts';

/** GitHub's default: a trigger without `events` starts a run on pushes. */
export const GITHUB_DEFAULT_EVENTS: readonly string[] = ['push'];

/** What an inbound delivery asks for, once its signature holds (SPEC §12). */
export type InboundDelivery =
  /** GitHub's `ping` when a webhook is created: answered, starts nothing. */
  | { kind: 'ping' }
  /** Filtered out by `events` or `branches`: starts nothing, says why. */
  | { kind: 'ignored'; reason: string }
  /** A run to start, once per delivery id. */
  | { kind: 'start'; deliveryId: string; event: string | null };

/**
 * Verifies a delivery over its exact bytes (401 when the signature is
 * missing, wrong or stale), then reads it (400 when the body is not a JSON
 * object) and applies the trigger's filters.
 */
export function receiveDelivery(
  trigger: TriggerConfig,
  headers: IncomingHttpHeaders,
  body: Buffer,
  now = Date.now(),
): InboundDelivery {
  return trigger.source === 'github'
    ? receiveGithub(trigger, headers, body)
    : receiveStandard(trigger, headers, body, now);
}

function receiveGithub(
  trigger: TriggerConfig,
  headers: IncomingHttpHeaders,
  body: Buffer,
): InboundDelivery {
  verifyGithubSignature(trigger.secret, headers, body);
  const payload = jsonObject(body, 'in GitHub, set the webhook Content type to application/json');
  const event = header(headers, 'x-github-event');
  if (event === undefined) throw new BadRequestError('missing X-GitHub-Event header');
  if (event === 'ping') return { kind: 'ping' };
  const deliveryId = header(headers, 'x-github-delivery');
  if (deliveryId === undefined) throw new BadRequestError('missing X-GitHub-Delivery header');
  const events = trigger.events ?? GITHUB_DEFAULT_EVENTS;
  if (!events.includes(event))
    return { kind: 'ignored', reason: `event "${event}" is not one of ${events.join(', ')}` };
  if (event === 'push' && trigger.branches !== undefined) {
    const ref = typeof payload.ref === 'string' ? payload.ref : null;
    const branch = ref?.startsWith(BRANCH_REF) ? ref.slice(BRANCH_REF.length) : null;
    if (branch === null)
      return { kind: 'ignored', reason: `ref ${ref ?? '(none)'} is not a branch` };
    const branches = trigger.branches.map((b) =>
      b.startsWith(BRANCH_REF) ? b.slice(BRANCH_REF.length) : b,
    );
    if (!branches.includes(branch))
      return {
        kind: 'ignored',
        reason: `branch "${branch}" is not one of ${branches.join(', ')}`,
      };
  }
  return { kind: 'start', deliveryId, event };
}

const BRANCH_REF = 'refs/heads/';

function receiveStandard(
  trigger: TriggerConfig,
  headers: IncomingHttpHeaders,
  body: Buffer,
  now: number,
): InboundDelivery {
  const deliveryId = verifyStandardWebhook(trigger.secret, headers, body, Math.floor(now / 1000));
  const payload = jsonObject(body, 'send Content-Type: application/json');
  const type = typeof payload.type === 'string' ? payload.type : null;
  if (trigger.events !== undefined && (type === null || !trigger.events.includes(type)))
    return {
      kind: 'ignored',
      reason:
        type === null
          ? `the body has no "type" to match ${trigger.events.join(', ')}`
          : `type "${type}" is not one of ${trigger.events.join(', ')}`,
    };
  return { kind: 'start', deliveryId, event: type };
}

function jsonObject(body: Buffer, hint: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError(`request body is not valid JSON (${hint})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new BadRequestError('request body must be a JSON object');
  return value as Record<string, unknown>;
}
