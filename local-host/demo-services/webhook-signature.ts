import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** How far a `webhook-timestamp` may be from now, as the Standard Webhooks reference library allows. */
const TOLERANCE_SECONDS = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a Standard Webhooks signature (`webhook-signature: v1,<base64>`,
 * HMAC-SHA256 over "id.timestamp.body") keyed with the UTF-8 bytes of the
 * secret as written, as Aegis signs (SPEC §5); a stale timestamp is a replay.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: IncomingHttpHeaders,
  body: string,
  nowSeconds: number,
): SignatureCheck {
  const id = single(headers['webhook-id']);
  const timestamp = single(headers['webhook-timestamp']);
  const signatures = single(headers['webhook-signature']);
  if (!id || !timestamp || !signatures)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds)) return { ok: false, reason: 'webhook-timestamp is not a number' };
  if (Math.abs(nowSeconds - seconds) > TOLERANCE_SECONDS)
    return { ok: false, reason: 'webhook-timestamp is too old or in the future' };
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${id}.${seconds}.${body}`, 'utf8')
    .digest();
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const sent = Buffer.from(value, 'base64');
    return sent.length === expected.length && timingSafeEqual(sent, expected);
  });
  return matches ? { ok: true } : { ok: false, reason: 'webhook-signature does not match' };
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
