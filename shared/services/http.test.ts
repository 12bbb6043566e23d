import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '#shared/config/schema.ts';
import { startStub, stubForTest } from '#test/support/stub-service.ts';
import {
  callServiceJson,
  describeTransportError,
  ServiceCallError,
  serviceHeaders,
  serviceUrl,
} from './http.ts';

/** Each stub lives for the test that starts it. */
const stub = stubForTest;

/** A URL nothing listens on: a stub's, after it closed. */
async function refusedUrl(): Promise<string> {
  const closed = await startStub();
  await closed.close();
  return closed.url;
}

function service(url: string, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name: 'QA',
    url,
    description: '',
    health_endpoint: '/health',
    features: [],
    repo_url: '',
    docs_url: '',
    ...extra,
  };
}

describe('serviceUrl', () => {
  it('joins the base URL and the path with exactly one slash', () => {
    expect(serviceUrl(service('http://qa.test'), '/api/runs')).toBe('http://qa.test/api/runs');
    expect(serviceUrl(service('http://qa.test/'), '/api/runs')).toBe('http://qa.test/api/runs');
    expect(serviceUrl(service('http://qa.test/base//'), 'health')).toBe(
      'http://qa.test/base/health',
    );
  });
});

describe('serviceHeaders', () => {
  it('sends X-API-Key only when api_key_env names a variable that is set', () => {
    const withEnv = service('http://qa.test', { api_key_env: 'QA_KEY' });
    expect(serviceHeaders(withEnv, { QA_KEY: 's3cret' })).toMatchObject({
      'content-type': 'application/json',
      'x-api-key': 's3cret',
    });
    expect(serviceHeaders(withEnv, {})).not.toHaveProperty('x-api-key');
    // An empty variable holds no key: sending `X-API-Key:` with nothing would only confuse the service.
    expect(serviceHeaders(withEnv, { QA_KEY: '' })).not.toHaveProperty('x-api-key');
    expect(serviceHeaders(service('http://qa.test'), { QA_KEY: 's3cret' })).not.toHaveProperty(
      'x-api-key',
    );
  });
});

describe('callServiceJson', () => {
  it('sends the method, JSON body and headers, and returns the parsed answer', async () => {
    const qa = await stub({ 'POST /api/runs': { body: { total: 1 } } });
    const answer = await callServiceJson({
      key: 'qaagent',
      service: service(qa.url, { api_key_env: 'QA_KEY' }),
      env: { QA_KEY: 'k-123' },
      method: 'POST',
      path: '/api/runs',
      body: { verify_only: true },
    });
    expect(answer).toEqual({ total: 1 });
    const [request] = qa.calls('POST /api/runs');
    expect(request?.json).toEqual({ verify_only: true });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-api-key']).toBe('k-123');
  });

  it('sends no body with a GET', async () => {
    const qa = await stub({ 'GET /api/routes': { body: { routes: [] } } });
    await callServiceJson({
      key: 'qaagent',
      service: service(qa.url),
      env: {},
      method: 'GET',
      path: '/api/routes',
    });
    expect(qa.calls('GET /api/routes')[0]?.body).toBe('');
  });

  it.each([
    ['a non-2xx answer', { status: 503, body: { error: 'busy' } }, 'HTTP 503'],
    ['a 404', { status: 404 }, 'HTTP 404'],
    ['a body that is not JSON', { raw: '<html>oops</html>' }, 'response is not JSON'],
    ['an empty body', { raw: '' }, 'response is not JSON'],
  ])(
    'fails on %s with a text naming service, method, path and cause',
    async (_name, answer, cause) => {
      const qa = await stub({ 'POST /api/runs': answer });
      const call = callServiceJson({
        key: 'qaagent',
        service: service(qa.url),
        env: {},
        method: 'POST',
        path: '/api/runs',
        body: {},
      });
      await expect(call).rejects.toThrow(ServiceCallError);
      await expect(call).rejects.toThrow(`qaagent POST /api/runs: ${cause}`);
    },
  );

  it.each([
    [401, 'QAAGENT_API_KEY', {}, 'HTTP 401 (QAAGENT_API_KEY is not set)'],
    [403, 'QAAGENT_API_KEY', {}, 'HTTP 403 (QAAGENT_API_KEY is not set)'],
    [401, 'QAAGENT_API_KEY', { QAAGENT_API_KEY: '' }, 'HTTP 401 (QAAGENT_API_KEY is empty)'],
    [401, undefined, {}, 'HTTP 401 (the service has no api_key_env, so no X-API-Key was sent)'],
  ] as const)(
    'names the key variable on a %i when %s gave no key',
    async (status, apiKeyEnv, env, cause) => {
      const qa = await stub({ 'POST /api/runs': { status, body: { error: 'unauthorized' } } });
      const call = callServiceJson({
        key: 'qaagent',
        service: service(qa.url, apiKeyEnv ? { api_key_env: apiKeyEnv } : {}),
        env,
        method: 'POST',
        path: '/api/runs',
        body: {},
      });
      await expect(call).rejects.toThrow(`qaagent POST /api/runs: ${cause}`);
    },
  );

  it('says only the status on a 401 when the key was sent (it was refused)', async () => {
    const qa = await stub({ 'GET /api/routes': { status: 401 } });
    const call = callServiceJson({
      key: 'qaagent',
      service: service(qa.url, { api_key_env: 'QAAGENT_API_KEY' }),
      env: { QAAGENT_API_KEY: 'a-wrong-key' },
      method: 'GET',
      path: '/api/routes',
    });
    await expect(call).rejects.toThrow(/^qaagent GET \/api\/routes: HTTP 401$/);
  });

  it('says "connection reset" when the service drops the connection mid-answer', async () => {
    const qa = await stub({ 'GET /api/routes': { body: { routes: [1, 2, 3] }, truncate: true } });
    await expect(
      callServiceJson({
        key: 'qaagent',
        service: service(qa.url),
        env: {},
        method: 'GET',
        path: '/api/routes',
      }),
    ).rejects.toThrow('qaagent GET /api/routes: connection reset');
  });

  it('says "host not found" for a name that does not resolve', async () => {
    await expect(
      callServiceJson({
        key: 'qaagent',
        service: service('http://aegis-no-such-host.invalid'),
        env: {},
        method: 'GET',
        path: '/api/routes',
      }),
    ).rejects.toThrow('qaagent GET /api/routes: host not found');
  });

  it('names the HTTP status even when the error answer is cut off', async () => {
    const qa = await stub({
      'POST /api/runs': { status: 502, body: { error: 'x' }, truncate: true },
    });
    await expect(
      callServiceJson({
        key: 'qaagent',
        service: service(qa.url),
        env: {},
        method: 'POST',
        path: '/api/runs',
        body: {},
      }),
    ).rejects.toThrow('qaagent POST /api/runs: HTTP 502');
  });

  it('says "connection refused" when nothing listens', async () => {
    const url = await refusedUrl();
    await expect(
      callServiceJson({
        key: 'bugs',
        service: service(url),
        env: {},
        method: 'POST',
        path: '/api/v1/reports',
        body: {},
      }),
    ).rejects.toThrow('bugs POST /api/v1/reports: connection refused');
  });
});

describe('describeTransportError', () => {
  const transportError = (code: string) => Object.assign(new Error(`${code} detail`), { code });

  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ENOTFOUND', 'host not found'],
    ['EAI_AGAIN', 'host not found'],
    ['ECONNRESET', 'connection reset'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENETUNREACH', 'host unreachable'],
  ])('words %s as "%s"', (code, words) => {
    expect(describeTransportError(transportError(code))).toBe(words);
  });

  it('reads the code from a wrapped cause too', () => {
    const wrapped = Object.assign(new TypeError('request failed'), {
      cause: { code: 'ECONNREFUSED' },
    });
    expect(describeTransportError(wrapped)).toBe('connection refused');
  });

  it('words aborts and timeouts as "timed out"', () => {
    expect(describeTransportError(new DOMException('x', 'TimeoutError'))).toBe('timed out');
    expect(describeTransportError(new DOMException('x', 'AbortError'))).toBe('timed out');
  });

  it("falls back to the cause's message, then the error's own", () => {
    const wrapped = Object.assign(new TypeError('request failed'), {
      cause: { code: 'EWHATEVER', message: 'EWHATEVER detail' },
    });
    expect(describeTransportError(wrapped)).toBe('EWHATEVER detail');
    expect(describeTransportError(transportError('EWHATEVER'))).toBe('EWHATEVER detail');
    expect(describeTransportError(new Error('plain'))).toBe('plain');
    expect(describeTransportError('a string')).toBe('a string');
  });
});
