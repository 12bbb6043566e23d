import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_WEBHOOK_SECRET } from './start.ts';
import { call, startForTest } from './test-client.ts';

const FAILURES = [
  { test: 'test_checkout_applies_discount_code', route: 'POST /checkout', error: 'got 100.00' },
  { test: 'test_add_to_cart_rejects_zero_quantity', route: 'POST /cart/items', error: 'got 201' },
];

const EVENT = {
  event_type: 'workflow.completed',
  timestamp: '2025-01-01T00:00:00.000Z',
  workflow_name: 'full_pipeline',
  run_id: 'run-1',
  data: { success: true },
};

/** Headers and body as Aegis sends a delivery, signed with the reference Standard Webhooks library. */
function signedDelivery(
  secret: string,
  sentAt = new Date(),
  { id = 'msg_1', body = JSON.stringify(EVENT), headers = {} as Record<string, string> } = {},
) {
  const signer = new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
  return {
    raw: body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': signer.sign(id, sentAt, body),
      ...headers,
    },
  };
}

describe('demo bug tracker: reports', () => {
  it('answers /health', async () => {
    const { bugTrackerUrl } = await startForTest();
    expect(await call(bugTrackerUrl, 'GET', '/health')).toMatchObject({
      status: 200,
      json: { status: 'ok', service: 'bug-tracker' },
    });
  });

  it('files one report per failure and lists them', async () => {
    const { bugTrackerUrl } = await startForTest();
    const filed = await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: FAILURES },
    });
    expect(filed.status).toBe(201);
    expect(filed.json).toEqual({
      created: 2,
      duplicates: 0,
      reports: [
        {
          id: 'BUG-1',
          title: 'test_checkout_applies_discount_code fails on POST /checkout',
          test: 'test_checkout_applies_discount_code',
          route: 'POST /checkout',
          error: 'got 100.00',
          severity: 'high',
          status: 'open',
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
        expect.objectContaining({ id: 'BUG-2', severity: 'medium' }),
      ],
    });
    const listed = await call(bugTrackerUrl, 'GET', '/api/v1/reports');
    expect(listed.json).toEqual({
      count: 2,
      reports: (filed.json as { reports: unknown }).reports,
    });
  });

  it('answers a failure reported again with its existing report', async () => {
    const { bugTrackerUrl } = await startForTest();
    await call(bugTrackerUrl, 'POST', '/api/v1/reports', { body: { failures: [FAILURES[0]] } });
    const again = await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: FAILURES },
    });
    expect(again.json).toMatchObject({
      created: 1,
      duplicates: 1,
      reports: [{ id: 'BUG-1' }, { id: 'BUG-2' }],
    });
    expect((await call(bugTrackerUrl, 'GET', '/api/v1/reports')).json).toMatchObject({ count: 2 });
  });

  it('takes failures with only a test name', async () => {
    const { bugTrackerUrl } = await startForTest();
    const filed = await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: [{ test: 'test_x' }] },
    });
    expect(filed.json).toMatchObject({
      reports: [{ title: 'test_x fails', route: null, error: null }],
    });
  });

  it('answers bad bodies with a 400 that says what is wrong', async () => {
    const { bugTrackerUrl } = await startForTest();
    const cases: [unknown, string][] = [
      [{}, '"failures" must be a list'],
      [{ failures: 'x' }, '"failures" must be a list'],
      [{ failures: [1] }, 'failures[0] must be an object'],
      [
        { failures: [{ test: 'a' }, { route: '/x' }] },
        'failures[1].test must be a non-empty string',
      ],
      [{ failures: [{ test: 'a', error: 5 }] }, 'failures[0].error must be a string'],
    ];
    for (const [body, message] of cases)
      expect(await call(bugTrackerUrl, 'POST', '/api/v1/reports', { body })).toMatchObject({
        status: 400,
        json: { error: 'bad_request', message },
      });
    const notJson = await call(bugTrackerUrl, 'POST', '/api/v1/reports', { raw: 'failures=1' });
    expect(notJson).toMatchObject({ status: 400, json: { error: 'bad_request' } });
    expect((await call(bugTrackerUrl, 'GET', '/api/v1/reports')).json).toMatchObject({ count: 0 });
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const { bugTrackerUrl } = await startForTest();
    expect((await call(bugTrackerUrl, 'GET', '/api/v2/reports')).status).toBe(404);
    const put = await call(bugTrackerUrl, 'PUT', '/api/v1/reports', { body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST, GET');
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const { bugTrackerUrl } = await startForTest();
    const answer = await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: [{ test: 'x'.repeat(1_100_000) }] },
    });
    expect(answer).toMatchObject({ status: 413, json: { error: 'payload_too_large' } });
  });

  it('requires BUGALIZER_API_KEY as X-API-Key when it is set', async () => {
    const { bugTrackerUrl } = await startForTest({ BUGALIZER_API_KEY: 'bug-secret' });
    const denied = await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: FAILURES },
    });
    expect(denied.status).toBe(401);
    expect((await call(bugTrackerUrl, 'GET', '/api/v1/reports')).status).toBe(401);
    expect((await call(bugTrackerUrl, 'GET', '/api/v1/webhooks')).status).toBe(401);
    const allowed = await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: FAILURES },
      headers: { 'x-api-key': 'bug-secret' },
    });
    expect(allowed.status).toBe(201);
    expect((await call(bugTrackerUrl, 'GET', '/health')).status).toBe(200);
  });
});

describe('demo bug tracker: webhook receiver', () => {
  it('records deliveries and lists them newest first', async () => {
    const { webhookUrl } = await startForTest();
    const sentAt = new Date();
    const first = await call(
      webhookUrl,
      'POST',
      '',
      signedDelivery(DEFAULT_DEMO_WEBHOOK_SECRET, sentAt, {
        body: JSON.stringify({ ...EVENT, event_type: 'workflow.started' }),
        headers: { 'user-agent': 'Aegis/0.1.0' },
      }),
    );
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      received: {
        received_at: expect.any(String),
        webhook_id: 'msg_1',
        webhook_timestamp: String(Math.floor(sentAt.getTime() / 1000)),
        event_type: 'workflow.started',
        workflow_name: 'full_pipeline',
        run_id: 'run-1',
        signature: 'verified',
        user_agent: 'Aegis/0.1.0',
        data: { success: true },
      },
    });
    await call(
      webhookUrl,
      'POST',
      '',
      signedDelivery(DEFAULT_DEMO_WEBHOOK_SECRET, new Date(), { id: 'msg_2' }),
    );
    const listed = await call(webhookUrl, 'GET', '');
    expect(listed.json).toMatchObject({
      count: 2,
      deliveries: [
        { webhook_id: 'msg_2', event_type: 'workflow.completed', signature: 'verified' },
        { webhook_id: 'msg_1', event_type: 'workflow.started' },
      ],
    });
  });

  it('verifies with the demo secret when AEGIS_DEMO_WEBHOOK_SECRET is unset, refusing the unsigned', async () => {
    const { webhookUrl } = await startForTest();
    const unsigned = await call(webhookUrl, 'POST', '', { body: EVENT });
    const otherKey = await call(webhookUrl, 'POST', '', signedDelivery('whsec_other'));
    expect(unsigned).toMatchObject({
      status: 401,
      json: {
        message:
          'webhook rejected: missing Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature',
      },
    });
    expect(otherKey.status).toBe(401);
    expect((await call(webhookUrl, 'GET', '')).json).toMatchObject({ count: 0 });
  });

  it('needs no API key to receive, since Aegis signs webhooks instead', async () => {
    const { webhookUrl } = await startForTest({ BUGALIZER_API_KEY: 'bug-secret' });
    const delivery = signedDelivery(DEFAULT_DEMO_WEBHOOK_SECRET);
    expect((await call(webhookUrl, 'POST', '', delivery)).status).toBe(200);
  });

  it('answers a body without an event type, or not JSON, with 400', async () => {
    const { webhookUrl } = await startForTest();
    const signed = (body: string) =>
      signedDelivery(DEFAULT_DEMO_WEBHOOK_SECRET, new Date(), { body });
    expect((await call(webhookUrl, 'POST', '', signed('{"run_id":"x"}'))).status).toBe(400);
    expect((await call(webhookUrl, 'POST', '', signed('{'))).status).toBe(400);
    expect((await call(webhookUrl, 'GET', '')).json).toMatchObject({ count: 0 });
  });

  it('verifies Standard Webhooks signatures when AEGIS_DEMO_WEBHOOK_SECRET is set', async () => {
    const secret = 'whsec_demo';
    const { webhookUrl } = await startForTest({ AEGIS_DEMO_WEBHOOK_SECRET: secret });
    const good = await call(webhookUrl, 'POST', '', signedDelivery(secret));
    expect(good).toMatchObject({ status: 200, json: { received: { signature: 'verified' } } });

    const wrongKey = await call(webhookUrl, 'POST', '', signedDelivery('whsec_other'));
    expect(wrongKey).toMatchObject({
      status: 401,
      json: {
        message: expect.stringMatching(
          /^webhook rejected: webhook-signature has no v1 entry that matches/,
        ),
      },
    });
    const replayed = await call(
      webhookUrl,
      'POST',
      '',
      signedDelivery(secret, new Date(Date.now() - 10 * 60_000)),
    );
    expect(replayed).toMatchObject({
      status: 401,
      json: {
        message: expect.stringMatching(
          /^webhook rejected: webhook-timestamp is 6\d\d s old, more than the 5 minutes allowed/,
        ),
      },
    });
    const tampered = signedDelivery(secret);
    tampered.raw = tampered.raw.replace('true', 'false');
    expect((await call(webhookUrl, 'POST', '', tampered)).status).toBe(401);
    const unsigned = await call(webhookUrl, 'POST', '', { body: EVENT });
    expect(unsigned).toMatchObject({
      status: 401,
      json: {
        message:
          'webhook rejected: missing Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature',
      },
    });
    expect((await call(webhookUrl, 'GET', '')).json).toMatchObject({ count: 1 });
  });
});
