import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '../config/schema.ts';

export interface SignatureHeaders {
  'x-aegis-signature': string;
  'webhook-signature': string;
}

/** A webhook's secrets, newest first; none when it sends unsigned (`secret: ""`). */
export function webhookSecrets(secret: WebhookConfig['secret'] | readonly string[]): string[] {
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  return secrets.filter((s) => s !== '');
}

/**
 * Both signatures of SPEC §5 over the exact bytes sent, keyed with the UTF-8
 * bytes of each secret as written (a `whsec_` value is not base64-decoded):
 * the original's hex HMAC of the body with the newest secret, and the
 * Standard Webhooks `v1,<base64 HMAC of "id.timestamp.body">`, one entry per
 * secret (SPEC §15), so a receiver still on an older secret verifies too.
 */
export function signDelivery(
  secrets: readonly [string, ...string[]],
  webhookId: string,
  timestampSeconds: number,
  body: string,
): SignatureHeaders {
  const [newest] = secrets;
  const hmac = (secret: string) => createHmac('sha256', Buffer.from(secret, 'utf8'));
  const signed = `${webhookId}.${timestampSeconds}.${body}`;
  return {
    'x-aegis-signature': hmac(newest).update(body, 'utf8').digest('hex'),
    'webhook-signature': secrets
      .map((secret) => `v1,${hmac(secret).update(signed, 'utf8').digest('base64')}`)
      .join(' '),
  };
}
