import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '#shared/config/schema.ts';
import { startStub, stubForTest } from '#test/support/stub-service.ts';
import { checkAllServices, checkServiceHealth } from './health.ts';
import { serviceListing } from './listing.ts';

/** Each stub lives for the test that starts it. */
const stub = stubForTest;

function service(url: string, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name: 'QA Agent',
    url,
    description: 'finds and tests routes',
    health_endpoint: '/health',
    features: ['Route Discovery'],
    repo_url: '',
    docs_url: '',
    ...extra,
  };
}

describe('checkServiceHealth', () => {
  it('is healthy on a 2xx from GET {url}{health_endpoint}', async () => {
    const qa = await stub({ 'GET /status/ping': { status: 204, raw: '' } });
    const health = await checkServiceHealth(
      'qaagent',
      service(qa.url, { health_endpoint: '/status/ping' }),
      { env: {} },
    );
    expect(health).toEqual({
      service: 'qaagent',
      healthy: true,
      status: 'healthy',
      status_code: 204,
      latency_ms: expect.any(Number),
      error: null,
    });
    expect(health.latency_ms).toBeGreaterThanOrEqual(0);
    expect(qa.calls('GET /status/ping')).toHaveLength(1);
  });

  it('sends X-API-Key when api_key_env names a set variable', async () => {
    const qa = await stub({ 'GET /health': { body: { status: 'ok' } } });
    await checkServiceHealth('qaagent', service(qa.url, { api_key_env: 'QA_KEY' }), {
      env: { QA_KEY: 'k-1' },
    });
    expect(qa.calls('GET /health')[0]?.headers['x-api-key']).toBe('k-1');
  });

  it('is unhealthy when the service answers but not 2xx, with the status in the error', async () => {
    const qa = await stub({ 'GET /health': { status: 503, body: { status: 'degraded' } } });
    const health = await checkServiceHealth('qaagent', service(qa.url), { env: {} });
    expect(health).toMatchObject({
      healthy: false,
      status: 'unhealthy',
      status_code: 503,
      error: 'HTTP 503',
    });
  });

  it('names the unset key variable when the health endpoint answers 401', async () => {
    const qa = await stub({ 'GET /health': { status: 401 } });
    const health = await checkServiceHealth(
      'qaagent',
      service(qa.url, { api_key_env: 'QAAGENT_API_KEY' }),
      { env: {} },
    );
    expect(health).toMatchObject({
      status: 'unhealthy',
      status_code: 401,
      error: 'HTTP 401 (QAAGENT_API_KEY is not set)',
    });
  });

  it('is unreachable when the connection is refused', async () => {
    const gone = await startStub();
    await gone.close();
    const health = await checkServiceHealth('qaagent', service(gone.url), { env: {} });
    expect(health).toMatchObject({
      healthy: false,
      status: 'unreachable',
      status_code: null,
      error: 'connection refused',
    });
    expect(health.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('is unreachable when the host does not resolve', async () => {
    const health = await checkServiceHealth(
      'qaagent',
      service('http://aegis-no-such-host.invalid'),
      { env: {} },
    );
    expect(health).toMatchObject({ status: 'unreachable', error: 'host not found' });
  });

  it('times out after the timeout, with latency about the timeout and the request aborted', async () => {
    const qa = await stub({ 'GET /health': { delayMs: 5000 } });
    const health = await checkServiceHealth('qaagent', service(qa.url), {
      env: {},
      timeoutMs: 200,
    });
    expect(health).toMatchObject({
      healthy: false,
      status: 'timeout',
      status_code: null,
      error: 'no answer within 0.2s',
    });
    expect(health.latency_ms).toBeGreaterThanOrEqual(190);
    expect(health.latency_ms).toBeLessThan(2000);
    await expect.poll(() => qa.calls('GET /health')[0]?.aborted).toBe(true);
  });

  it('treats a timeout beyond what a timer can hold as "very long", not "now"', async () => {
    const qa = await stub({ 'GET /health': { body: { status: 'ok' } } });
    const health = await checkServiceHealth('qaagent', service(qa.url), {
      env: {},
      timeoutMs: 10_000_000_000,
    });
    expect(health.status).toBe('healthy');
  });
});

describe('checkAllServices', () => {
  it('checks every service at once: ten services of ~1 s take about 1 s, not 10', async () => {
    const slow = await Promise.all(
      Array.from({ length: 10 }, () => stub({ 'GET /health': { delayMs: 1000, body: {} } })),
    );
    const services = Object.fromEntries(slow.map((s, i) => [`svc${i}`, service(s.url)]));
    const started = performance.now();
    const health = await checkAllServices(services, { env: {} });
    const elapsed = performance.now() - started;
    expect(health.map((h) => h.status)).toEqual(Array(10).fill('healthy'));
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
  });

  it('reports all four labels, in the order services are configured', async () => {
    const up = await stub({ 'GET /health': { body: {} } });
    const sick = await stub({ 'GET /health': { status: 500 } });
    const slow = await stub({ 'GET /health': { delayMs: 3000 } });
    const gone = await startStub();
    await gone.close();
    const health = await checkAllServices(
      {
        up: service(up.url),
        sick: service(sick.url),
        slow: service(slow.url),
        gone: service(gone.url),
      },
      { env: {}, timeoutMs: 300 },
    );
    expect(health.map((h) => [h.service, h.status])).toEqual([
      ['up', 'healthy'],
      ['sick', 'unhealthy'],
      ['slow', 'timeout'],
      ['gone', 'unreachable'],
    ]);
  });

  it('answers [] with no services', async () => {
    expect(await checkAllServices({}, { env: {} })).toEqual([]);
  });
});

describe('serviceListing', () => {
  it('is the /api/services shape: {key, name, description, url, features, status, latency_ms, error}', async () => {
    const qa = await stub({ 'GET /health': { status: 502 } });
    const services = { qaagent: service(qa.url) };
    const [entry, ...rest] = serviceListing(
      services,
      await checkAllServices(services, { env: {} }),
    );
    expect(rest).toEqual([]);
    expect(entry).toEqual({
      key: 'qaagent',
      name: 'QA Agent',
      description: 'finds and tests routes',
      url: qa.url,
      features: ['Route Discovery'],
      status: 'unhealthy',
      latency_ms: expect.any(Number),
      error: 'HTTP 502',
    });
  });

  it('shows credentials in a service URL as ***, while the check uses the real URL', async () => {
    // Prepare
    const qa = await stub({ 'GET /health': { status: 200 } });
    const services = { qaagent: service(qa.url.replace('http://', 'http://ci:pass-1@')) };

    // Act
    const health = await checkAllServices(services, { env: {} });
    const [entry] = serviceListing(services, health);

    // Assess
    expect(health[0]).toMatchObject({ healthy: true });
    expect(entry?.url).toBe(qa.url.replace('http://', 'http://***:***@'));
  });

  it('masks token-like query parameters, in the URL and in an error that quotes one', () => {
    // Act
    const [entry] = serviceListing({ qaagent: service('https://qa.test/?api_key=pass-2&v=1') }, [
      {
        service: 'qaagent',
        healthy: false,
        status: 'unreachable',
        status_code: null,
        latency_ms: 1,
        error: 'redirected to https://sso.test/login?sig=pass-3',
      },
    ]);

    // Assess
    expect(entry).toMatchObject({
      url: 'https://qa.test/?api_key=***&v=1',
      error: 'redirected to https://sso.test/login?sig=***',
    });
  });

  it('leaves out a check for a service it does not know', () => {
    const listing = serviceListing({}, [
      {
        service: 'ghost',
        healthy: true,
        status: 'healthy',
        status_code: 200,
        latency_ms: 1,
        error: null,
      },
    ]);
    expect(listing).toEqual([]);
  });
});
