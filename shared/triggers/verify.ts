import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { UnauthorizedError } from '../errors.ts';

/** Standard Webhooks: a `webhook-timestamp` further than this from now is a replay (or a clock far off). */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

const GITHUB_SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/** Keyed with the UTF-8 bytes of the secret as written, as Aegis signs its own deliveries (SPEC §5). */
function hmac(secret: string, ...parts: readonly (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Equal-length digests compared in constant time (a digest's length is no secret). */
function sameDigest(sent: Buffer, expected: Buffer): boolean {
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

/** A header sent once; a repeated header arrives as a list and counts as none. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`
 * over the exact bytes received; throws a 401 that says what is wrong.
 */
export function verifyGithubSignature(
  secret: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): void {
  const sent = header(headers, 'x-hub-signature-256');
  if (sent === undefined)
    throw new UnauthorizedError(
      "missing X-Hub-Signature-256 header: set the webhook's secret in GitHub to the trigger's secret",
    );
  const hex = GITHUB_SIGNATURE.exec(sent)?.[1];
  if (hex === undefined)
    throw new UnauthorizedError('X-Hub-Signature-256 must be sha256=<64 hex digits>');
  if (!sameDigest(Buffer.from(hex, 'hex'), hmac(secret, body)))
    throw new UnauthorizedError(
      "X-Hub-Signature-256 does not match the body: the webhook's secret differs from the trigger's, or the body was changed",
    );
}

/**
 * The Standard Webhooks headers: `webhook-id`, `webhook-timestamp` (whole
 * seconds, within 5 minutes of now) and `webhook-signature`, one or more
 * space-separated `v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>`
 * entries of which one must match. Answers the `webhook-id` (the delivery
 * id); throws a 401 that says what is wrong.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  nowSeconds: number,
): string {
  const missing = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].filter(
    (name) => header(headers, name) === undefined,
  );
  if (missing.length > 0)
    throw new UnauthorizedError(
      `missing Standard Webhooks header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  const id = header(headers, 'webhook-id') as string;
  const timestamp = header(headers, 'webhook-timestamp') as string;
  if (!/^\d{1,15}$/.test(timestamp))
    throw new UnauthorizedError('webhook-timestamp must be whole seconds since 1970 (Unix time)');
  const skew = nowSeconds - Number(timestamp);
  if (Math.abs(skew) > TIMESTAMP_TOLERANCE_S)
    throw new UnauthorizedError(
      `webhook-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'}, more than the ${TIMESTAMP_TOLERANCE_S / 60} minutes allowed: a stale or replayed delivery (or a clock that is off)`,
    );
  const expected = hmac(secret, `${id}.${timestamp}.`, body);
  const entries = (header(headers, 'webhook-signature') as string).split(' ');
  // Every entry is compared, so the time taken does not say which (if any) matched.
  let matched = false;
  for (const entry of entries) {
    const [version, value] = entry.split(',', 2);
    if (
      version === 'v1' &&
      value !== undefined &&
      sameDigest(Buffer.from(value, 'base64'), expected)
    )
      matched = true;
  }
  if (!matched)
    throw new UnauthorizedError(
      "webhook-signature has no v1 entry that matches: the sender's secret differs from the trigger's, or the body was changed",
    );
  return id;
}
