import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signDelivery, webhookSecrets } from './sign.ts';

const NEW = 'whsec_bmV3LXNlY3JldC0yMDI1';
const OLD = 'old secret, as written';
const BODY = '{"event_type":"workflow.completed","run_id":"r1"}';
const ID = 'msg_2x';

/** What a receiver using the reference library does with a delivery signed at `timestamp`. */
function verifyAs(secret: string, headers: Record<string, string>) {
  const receiver = new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
  return receiver.verify(BODY, headers);
}

describe('signDelivery', () => {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = (secrets: [string, ...string[]]) => ({
    'webhook-id': ID,
    'webhook-timestamp': String(timestamp),
    ...signDelivery(secrets, ID, timestamp, BODY),
  });

  it('signs with one secret as SPEC §5 says', () => {
    // Act
    const signed = headers([NEW]);

    // Assess
    expect(signed['x-aegis-signature']).toBe(createHmac('sha256', NEW).update(BODY).digest('hex'));
    expect(signed['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyAs(NEW, signed)).toEqual(JSON.parse(BODY));
  });

  describe('while a secret is rotated (newest first)', () => {
    const signed = headers([NEW, OLD]);

    it('carries one v1 entry per secret, space-separated', () => {
      // Assess
      expect(signed['webhook-signature'].split(' ')).toEqual([
        headers([NEW])['webhook-signature'],
        headers([OLD])['webhook-signature'],
      ]);
    });

    it.each([
      { receiver: 'on the new secret', secret: NEW },
      { receiver: 'still on the old secret', secret: OLD },
    ])('verifies with the reference library for a receiver $receiver', ({ secret }) => {
      // Act
      const payload = verifyAs(secret, signed);

      // Assess
      expect(payload).toEqual(JSON.parse(BODY));
    });

    it('is refused by a receiver with any other secret', () => {
      // Act
      const verify = () => verifyAs('a secret Aegis never had', signed);

      // Assess
      expect(verify).toThrow(WebhookVerificationError);
    });

    it('keeps X-Aegis-Signature on the newest secret', () => {
      // Assess
      expect(signed['x-aegis-signature']).toBe(
        createHmac('sha256', NEW).update(BODY).digest('hex'),
      );
    });
  });
});

describe('webhookSecrets', () => {
  it.each([
    { secret: '', secrets: [] },
    { secret: 'one', secrets: ['one'] },
    { secret: ['new', 'old'], secrets: ['new', 'old'] },
  ])('reads $secret as $secrets', ({ secret, secrets }) => {
    // Act
    const result = webhookSecrets(secret);

    // Assess
    expect(result).toEqual(secrets);
  });
});
