import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { FUNCTIONS } from '../index.ts';

let qa: StubService;
let broken: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
  broken = await startStub({ 'GET /health': { status: 500, body: { status: 'down' } } });
});
afterAll(async () => {
  await qa.close();
  await broken.close();
});

function servicesHandler() {
  const { context } = testContext(`
aegis: { name: Aegis QA, version: "2.1.0" }
services:
  qaagent:
    name: QA Agent
    url: "${qa.url}"
    description: Discovers routes and runs tests
    features: [Route Discovery, Test Runs]
    repo_url: https://example.test/qaagent
  bugalizer: { name: Bug tracker, url: "${broken.url}" }
  offline: { name: Offline, url: "http://127.0.0.1:9" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`);
  return createApiHandler(context, FUNCTIONS.services);
}

describe('services function', () => {
  it('lists every service with its live health, in config order', async () => {
    const answer = await invokeHandler(servicesHandler(), { path: '/api/services' });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([
      {
        key: 'qaagent',
        name: 'QA Agent',
        description: 'Discovers routes and runs tests',
        url: qa.url,
        features: ['Route Discovery', 'Test Runs'],
        status: 'healthy',
        latency_ms: expect.any(Number),
        error: null,
      },
      expect.objectContaining({ key: 'bugalizer', status: 'unhealthy', error: 'HTTP 500' }),
      expect.objectContaining({ key: 'offline', status: 'unreachable', error: expect.any(String) }),
    ]);
  });

  it("answers one service's health, and 404 for an unknown service", async () => {
    const handler = servicesHandler();
    expect((await invokeHandler(handler, { path: '/api/services/bugalizer/health' })).json).toEqual(
      {
        service: 'bugalizer',
        healthy: false,
        status: 'unhealthy',
        status_code: 500,
        latency_ms: expect.any(Number),
        error: 'HTTP 500',
      },
    );
    const unknown = await invokeHandler(handler, { path: '/api/services/nope/health' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      error: 'not_found',
      message: 'unknown service "nope" (known: qaagent, bugalizer, offline)',
    });
  });

  it("answers the portfolio with the config's identity, the tools and the workflow keys", async () => {
    const answer = await invokeHandler(servicesHandler(), { path: '/api/portfolio' });
    expect(answer.json).toEqual({
      name: 'Aegis QA',
      tagline: expect.any(String),
      version: '2.1.0',
      tools: [
        {
          key: 'qaagent',
          name: 'QA Agent',
          description: 'Discovers routes and runs tests',
          features: ['Route Discovery', 'Test Runs'],
          repo_url: 'https://example.test/qaagent',
          docs_url: '',
        },
        expect.objectContaining({ key: 'bugalizer' }),
        expect.objectContaining({ key: 'offline' }),
      ],
      workflows: ['smoke'],
    });
  });
});
