import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost } from '#local-host/host/start-host.ts';
import { testContext } from '#test/support/context.ts';
import { startTestHost } from '#test/support/host.ts';
import { claimRun, queueRun, step } from '#test/support/runs.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';

let qa: StubService;
beforeAll(async () => {
  qa = await startStub({ ...QA_AGENT_ROUTES, 'GET /slow/health': { body: {}, delayMs: 400 } });
});
afterAll(() => qa.close());

const config = (extra = '') => `
${extra}
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
  slow: { name: Slow, url: "${qa.url}/slow" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`;

describe('the local host', () => {
  it('serves every function behind one port', async () => {
    const { url } = await startTestHost(config());
    for (const path of [
      '/health',
      '/api/services',
      '/api/portfolio',
      '/api/workflows',
      '/api/history',
      '/api/events',
      '/api/webhooks',
      '/api/webhooks/deliveries',
      '/openapi.json',
    ]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(/application\/json/);
    }
  });

  it('answers GET /health ahead of Express exactly as the health function does', async () => {
    const { url, logs } = await startTestHost(config());
    const fast = await fetch(`${url}/health`, { headers: { 'x-request-id': 'probe-1' } });
    const routed = await fetch(`${url}/health?via=express`, {
      headers: { 'x-request-id': 'probe-2' },
    });
    const headerNames = (r: Response) =>
      [...r.headers.keys()].filter((k) => !['date', 'connection', 'keep-alive'].includes(k)).sort();
    expect(headerNames(fast)).toEqual(headerNames(routed));
    expect(fast.headers.get('x-request-id')).toBe('probe-1');
    expect(fast.headers.get('access-control-allow-origin')).toBe('*');
    const [fastBody, routedBody] = [
      (await fast.json()) as Record<string, unknown>,
      (await routed.json()) as Record<string, unknown>,
    ];
    expect(Object.keys(fastBody)).toEqual(Object.keys(routedBody));
    expect(fastBody).toMatchObject({
      status: 'ok',
      services_configured: 2,
      workflows_configured: 1,
    });
    const lines = logs().filter((line) => line.message === 'request' && line.path === '/health');
    expect(lines.map((l) => l.request_id)).toEqual(['probe-1', 'probe-2']);
    expect((await fetch(`${url}/health`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves config-only answers ahead of Express once built: the same bytes, headers, log line and metrics', async () => {
    const { url, logs } = await startTestHost(config());
    const headersOf = (r: Response) =>
      [...r.headers.entries()]
        .filter(([k]) => !['date', 'connection', 'keep-alive', 'x-request-id'].includes(k))
        .sort();
    for (const path of [
      '/api/workflows',
      '/api/workflows/smoke',
      '/api/portfolio',
      '/openapi.json',
    ]) {
      const built = await fetch(`${url}${path}`);
      const prebuilt = await fetch(`${url}${path}`, {
        headers: { 'x-request-id': `again-${path.replaceAll('/', '.')}` },
      });
      expect(prebuilt.status, path).toBe(200);
      expect(headersOf(prebuilt), path).toEqual(headersOf(built));
      expect(prebuilt.headers.get('x-request-id')).toBe(`again-${path.replaceAll('/', '.')}`);
      expect(await prebuilt.text(), path).toBe(await built.text());
    }
    const lines = logs().filter(
      (l) => l.message === 'request' && l.path === '/api/workflows/smoke',
    );
    expect(lines.map((l) => [l.status, typeof l.duration_ms])).toEqual([
      [200, 'number'],
      [200, 'number'],
    ]);
    expect(lines[1]?.request_id).toBe('again-.api.workflows.smoke');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /aegis_http_requests_total\{[^}]*route="\/api\/workflows\/\{name\}"[^}]*\} 2/,
    );
    // A HEAD, and an unknown workflow, still go through the router.
    expect((await fetch(`${url}/api/workflows`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${url}/api/workflows/nope`)).status).toBe(404);
  });

  it('never serves a prebuilt answer to a caller the route refuses', async () => {
    const { url } = await startTestHost(
      config(
        'auth: { protect_reads: true, keys: [{ name: ci, key: ci-key-123456, scopes: [read] }] }',
      ),
    );
    const key = { 'x-api-key': 'ci-key-123456' };
    expect((await fetch(`${url}/api/workflows`, { headers: key })).status).toBe(200);
    expect((await fetch(`${url}/api/workflows`, { headers: key })).status).toBe(200);
    const refused = await fetch(`${url}/api/workflows`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized' });
    expect(
      (await fetch(`${url}/api/workflows`, { headers: { 'x-api-key': 'wrong' } })).status,
    ).toBe(401);
  });

  it('answers unknown paths with a JSON 404 and wrong methods with 405', async () => {
    const { url } = await startTestHost(config());
    const missing = await fetch(`${url}/api/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: 'not_found',
      message: 'no such path: /api/nope',
    });
    const wrong = await fetch(`${url}/api/workflows`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });

  it('allows any origin, and answers preflights without auth', async () => {
    const { url } = await startTestHost(config('auth: { api_key: k }'));
    const preflight = await fetch(`${url}/api/workflows/smoke/run`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://dashboard.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-API-Key/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
    expect(
      (await fetch(`${url}/health`, { headers: { origin: 'https://x.example' } })).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('*');
  });

  it('takes or makes a request id, echoes it and logs it on one line per request', async () => {
    const { url, logs } = await startTestHost(config());
    const given = await fetch(`${url}/api/workflows`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await fetch(`${url}/api/workflows/nope`);
    const madeId = made.headers.get('x-request-id');
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);
    const requests = logs().filter((line) => line.message === 'request');
    expect(requests).toContainEqual(
      expect.objectContaining({
        service: 'aegis',
        request_id: 'trace-123',
        method: 'GET',
        path: '/api/workflows',
        status: 200,
        duration_ms: expect.any(Number),
      }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({ request_id: madeId, path: '/api/workflows/nope', status: 404 }),
    );
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const { url } = await startTestHost(config());
    const response = await fetch(`${url}/api/workflows/smoke/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(1_048_576) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: 'payload_too_large',
      message: 'request body is larger than 1 MiB (1048576 bytes)',
    });
  });

  it('answers an unexpected failure with 500, no stack trace, and the request id to find it in the logs', async () => {
    const { url, context, logText } = await startTestHost(config());
    (await context.stores()).db.close(); // the database goes away under the host
    const response = await fetch(`${url}/api/history`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: string; message: string };
    expect(body).toEqual({
      error: 'internal_error',
      message: `internal server error (request id ${response.headers.get('x-request-id')})`,
    });
    expect(logText()).not.toMatch(/\n\s+at /);
    expect(logText()).toContain('"message":"request failed"');
  });

  it('never logs an API key, whether right or wrong', async () => {
    const { url, logText } = await startTestHost(config('auth: { api_key: "key-A1b2C3" }'));
    await fetch(`${url}/api/workflows/smoke/run`, {
      method: 'POST',
      headers: { 'x-api-key': 'key-A1b2C3' },
    });
    await fetch(`${url}/api/workflows/smoke/run`, {
      method: 'POST',
      headers: { 'x-api-key': 'guess-Z9' },
    });
    expect(logText()).toContain('"status":401');
    expect(logText()).not.toContain('key-A1b2C3');
    expect(logText()).not.toContain('guess-Z9');
  });

  it('fails at start, naming the path, when the history cannot be written', async () => {
    const { context } = testContext(config(), { AEGIS_DB_PATH: '/dev/null/history.db' });
    await expect(startHost({ context, host: '127.0.0.1', port: 0 })).rejects.toThrow(
      /\/dev\/null\/history\.db/,
    );
  });

  it("at its start, marks interrupted only the runs whose lease expired, never a live process's", async () => {
    const { context } = testContext(config());
    const stores = await context.stores();
    const dead = await queueRun(stores);
    await claimRun(stores, dead, { owner: 'dead-process', now: Date.now() - 120_000 });
    await stores.history.recordStep(dead, 0, step('discover'), 'dead-process');
    const alive = await queueRun(stores);
    await claimRun(stores, alive, { owner: 'live-process', leaseMs: 60_000 });
    const host = await startHost({ context, host: '127.0.0.1', port: 0 });
    try {
      const record = async (id: string) =>
        (await (await fetch(`${host.url}/api/runs/${id}`)).json()) as Record<string, unknown>;
      expect(await record(dead)).toMatchObject({
        status: 'interrupted',
        reason: 'worker lost',
        step_count: 1,
      });
      expect(await record(alive)).toMatchObject({ status: 'running', reason: null });
    } finally {
      await host.close({ graceMs: 500 });
    }
  });

  it('shuts down gracefully: in-flight requests finish, new connections are refused, the database is closed', async () => {
    const { context } = testContext(config());
    const host = await startHost({ context, host: '127.0.0.1', port: 0 });
    const { db } = await context.stores();
    const inFlight = fetch(`${host.url}/api/services/slow/health`).then((r) => r.json());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const closed = host.close();
    expect(await inFlight).toMatchObject({ service: 'slow', healthy: true });
    await closed;
    expect(performance.now() - started).toBeLessThan(3_000);
    await expect(fetch(`${host.url}/health`)).rejects.toThrow();
    expect(db.closed).toBe(true);
  });
});
