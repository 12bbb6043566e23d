import { createHmac } from 'node:crypto';

export interface SignatureHeaders {
  'x-aegis-signature': string;
  'webhook-signature': string;
}

/**
 * Both signatures of SPEC §5 over the exact bytes sent, keyed with the UTF-8
 * bytes of the secret as written (a `whsec_` value is not base64-decoded):
 * the original's hex HMAC of the body, and the Standard Webhooks
 * `v1,<base64 HMAC of "id.timestamp.body">`, which lets a receiver reject replays.
 */
export function signDelivery(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): SignatureHeaders {
  const key = Buffer.from(secret, 'utf8');
  return {
    'x-aegis-signature': createHmac('sha256', key).update(body, 'utf8').digest('hex'),
    'webhook-signature': `v1,${createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`,
  };
}
