import { describe, expect, it } from 'vitest';
import { call, startForTest } from './test-client.ts';

const SHOP_FAILURES = [
  {
    test: 'test_add_to_cart_rejects_zero_quantity',
    route: 'POST /cart/items',
    error: 'expected HTTP 422 for quantity 0, got 201 Created',
  },
  {
    test: 'test_checkout_applies_discount_code',
    route: 'POST /checkout',
    error: 'expected total 90.00 with code SAVE10, got 100.00',
  },
];

describe('demo QA agent', () => {
  it('answers /health and describes its routes at /', async () => {
    const { qaAgentUrl } = await startForTest();
    expect(await call(qaAgentUrl, 'GET', '/health')).toMatchObject({
      status: 200,
      json: { status: 'ok', service: 'qa-agent' },
    });
    const index = await call(qaAgentUrl, 'GET', '/');
    expect(index.status).toBe(200);
    expect(index.json).toMatchObject({ service: 'qa-agent', api_key_required: false });
    expect((index.json as { routes: { path: string }[] }).routes.map((r) => r.path)).toEqual([
      '/health',
      '/api/routes',
      '/api/runs',
    ]);
  });

  it("lists the demo shop's routes", async () => {
    const { qaAgentUrl } = await startForTest();
    const answer = await call(qaAgentUrl, 'GET', '/api/routes');
    expect(answer.status).toBe(200);
    const routes = (answer.json as { routes: unknown[] }).routes;
    expect(routes).toHaveLength(8);
    for (const route of routes)
      expect(route).toEqual({
        method: expect.stringMatching(/^(GET|POST|DELETE)$/),
        path: expect.stringMatching(/^\//),
        description: expect.any(String),
      });
  });

  it('finds the same 2 failures of 12 on every test run', async () => {
    const { qaAgentUrl } = await startForTest();
    const first = await call(qaAgentUrl, 'POST', '/api/runs', { body: {} });
    const second = await call(qaAgentUrl, 'POST', '/api/runs', { body: {} });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      run_id: 'qa-run-0001',
      verify_only: false,
      total: 12,
      passed: 10,
      failed: 2,
      failures: SHOP_FAILURES,
    });
    expect(second.json).toEqual({ ...(first.json as object), run_id: 'qa-run-0002' });
  });

  it('takes an empty body as {}', async () => {
    const { qaAgentUrl } = await startForTest();
    const answer = await call(qaAgentUrl, 'POST', '/api/runs');
    expect(answer).toMatchObject({ status: 200, json: { failed: 2, verify_only: false } });
  });

  it('verifies as failing until the failures are reported, then as passing', async () => {
    const { qaAgentUrl, bugTrackerUrl } = await startForTest();
    const before = await call(qaAgentUrl, 'POST', '/api/runs', { body: { verify_only: true } });
    expect(before.json).toMatchObject({ verify_only: true, total: 12, passed: 10, failed: 2 });

    await call(bugTrackerUrl, 'POST', '/api/v1/reports', {
      body: { failures: [SHOP_FAILURES[0]] },
    });
    const partly = await call(qaAgentUrl, 'POST', '/api/runs', { body: { verify_only: true } });
    expect(partly.json).toMatchObject({ passed: 11, failed: 1, failures: [SHOP_FAILURES[1]] });

    await call(bugTrackerUrl, 'POST', '/api/v1/reports', { body: { failures: SHOP_FAILURES } });
    const after = await call(qaAgentUrl, 'POST', '/api/runs', { body: { verify_only: true } });
    expect(after.json).toMatchObject({ total: 12, passed: 12, failed: 0, failures: [] });

    // A plain test run still tests the shop as shipped.
    const test = await call(qaAgentUrl, 'POST', '/api/runs', { body: {} });
    expect(test.json).toMatchObject({ failed: 2 });
  });

  it('answers bad bodies with 400', async () => {
    const { qaAgentUrl } = await startForTest();
    const cases = [
      { raw: '{"verify_only": tru' },
      { raw: '[1, 2]' },
      { body: { verify_only: 'yes' } },
    ];
    for (const options of cases) {
      const answer = await call(qaAgentUrl, 'POST', '/api/runs', options);
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: 'bad_request', message: expect.any(String) });
    }
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const { qaAgentUrl } = await startForTest();
    expect(await call(qaAgentUrl, 'GET', '/api/nothing')).toMatchObject({
      status: 404,
      json: { error: 'not_found' },
    });
    const wrongMethod = await call(qaAgentUrl, 'GET', '/api/runs');
    expect(wrongMethod).toMatchObject({ status: 405, json: { error: 'method_not_allowed' } });
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await call(qaAgentUrl, 'DELETE', '/health')).status).toBe(405);
  });

  it('requires QAAGENT_API_KEY as X-API-Key on /api routes when it is set', async () => {
    const { qaAgentUrl } = await startForTest({ QAAGENT_API_KEY: 'qa-secret' });
    expect(await call(qaAgentUrl, 'GET', '/api/routes')).toMatchObject({
      status: 401,
      json: { error: 'unauthorized', message: 'missing X-API-Key header' },
    });
    const wrong = await call(qaAgentUrl, 'POST', '/api/runs', {
      body: {},
      headers: { 'x-api-key': 'guess' },
    });
    expect(wrong).toMatchObject({ status: 401, json: { message: 'invalid X-API-Key' } });
    const right = await call(qaAgentUrl, 'GET', '/api/routes', {
      headers: { 'x-api-key': 'qa-secret' },
    });
    expect(right.status).toBe(200);
    expect((await call(qaAgentUrl, 'GET', '/health')).status).toBe(200);
    expect((await call(qaAgentUrl, 'GET', '/')).json).toMatchObject({ api_key_required: true });
  });

  it('ignores an empty QAAGENT_API_KEY, as Aegis does', async () => {
    const { qaAgentUrl } = await startForTest({ QAAGENT_API_KEY: '' });
    expect((await call(qaAgentUrl, 'GET', '/api/routes')).status).toBe(200);
  });

  it('logs one line per request, without the API key', async () => {
    const { qaAgentUrl, log } = await startForTest({ QAAGENT_API_KEY: 'qa-secret' });
    await call(qaAgentUrl, 'GET', '/health?probe=1');
    await call(qaAgentUrl, 'GET', '/api/routes', { headers: { 'x-api-key': 'qa-secret' } });
    await call(qaAgentUrl, 'GET', '/api/routes');
    await expect.poll(() => log.length).toBe(3);
    expect(log[0]).toMatch(/^qa-agent +GET \/health 200 \d+ms$/);
    expect(log[1]).toMatch(/^qa-agent +GET \/api\/routes 200 \d+ms$/);
    expect(log[2]).toMatch(/^qa-agent +GET \/api\/routes 401 \d+ms$/);
    expect(log.join('\n')).not.toContain('qa-secret');
  });
});
