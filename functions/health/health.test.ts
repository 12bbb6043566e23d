import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  contextFromEnvironment,
  createApiHandler,
  lambdaHandler,
} from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { writeConfig } from '#test/support/temp.ts';
import { FUNCTIONS } from '../index.ts';
import { handler } from './handler.ts';

const CONFIG = `
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`;

describe('health function', () => {
  it('answers /health with status, version, uptime and what is configured', async () => {
    // Prepare
    const { context } = testContext(CONFIG);
    const health = createApiHandler(context, FUNCTIONS.health);
    // Act
    const answer = await invokeHandler(health, { path: '/health' });
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptime_seconds: expect.any(Number),
      services_configured: 1,
      workflows_configured: 1,
    });
    expect(answer.headers['content-type']).toMatch(/application\/json/);
  });

  it('needs no database: it answers even where none could be opened', async () => {
    const { context } = testContext(CONFIG, { AEGIS_DB_PATH: '/proc/aegis/cannot/exist.db' });
    const answer = await invokeHandler(createApiHandler(context, FUNCTIONS.health), {
      path: '/health',
    });
    expect(answer.status).toBe(200);
  });

  it('serves an OpenAPI 3.1 document that lists every route of every function', async () => {
    const { context } = testContext(CONFIG);
    const answer = await invokeHandler(createApiHandler(context, FUNCTIONS.health), {
      path: '/openapi.json',
    });
    const document = answer.json as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/api/events',
        '/api/events/stream',
        '/api/history',
        '/api/portfolio',
        '/api/runs/{run_id}',
        '/api/runs/{run_id}/cancel',
        '/api/runs/{run_id}/rerun',
        '/api/schedules',
        '/api/services',
        '/api/services/{name}/health',
        '/api/triggers/{name}',
        '/api/webhooks',
        '/api/webhooks/deliveries',
        '/api/webhooks/deliveries/{id}/redeliver',
        '/api/workflows',
        '/api/workflows/{name}',
        '/api/workflows/{name}/history',
        '/api/workflows/{name}/run',
        '/api/workflows/{name}/stats',
        '/api/workflows/{name}/tests',
        '/health',
        '/metrics',
        '/openapi.json',
      ].sort(),
    );
    expect(Object.keys(document.paths['/api/workflows/{name}/run'] ?? {})).toEqual(['post']);
  });

  it('documents query parameters from the same schemas that validate them', async () => {
    const { context } = testContext(CONFIG);
    const answer = await invokeHandler(createApiHandler(context, FUNCTIONS.health), {
      path: '/openapi.json',
    });
    const document = answer.json as {
      paths: Record<
        string,
        {
          get: {
            parameters: {
              name: string;
              schema: { minimum?: number; maximum?: number; default?: number; enum?: string[] };
            }[];
          };
        }
      >;
    };
    const limit = document.paths['/api/history']?.get.parameters.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ minimum: 1, maximum: 1000, default: 10 });
    const eventType = document.paths['/api/events']?.get.parameters.find(
      (p) => p.name === 'event_type',
    );
    expect(eventType?.schema.enum).toEqual([
      'workflow.started',
      'step.completed',
      'failure.detected',
      'workflow.completed',
      'workflow.cancelled',
    ]);
  });

  it('the exported Lambda handler reads its config from AEGIS_CONFIG at cold start', async () => {
    const path = writeConfig(CONFIG);
    const previous = process.env.AEGIS_CONFIG;
    process.env.AEGIS_CONFIG = path;
    try {
      const answer = await invokeHandler(handler, { path: '/health' });
      expect(answer.json).toMatchObject({ services_configured: 1, workflows_configured: 1 });
      // It also takes the API's catch-all route: it knows every route, so a wrong method is a 405.
      const wrongMethod = await invokeHandler(handler, { path: '/api/workflows/smoke/run' });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.allow).toBe('POST');
      expect((await invokeHandler(handler, { path: '/nothing/here' })).status).toBe(404);
    } finally {
      if (previous === undefined) delete process.env.AEGIS_CONFIG;
      else process.env.AEGIS_CONFIG = previous;
    }
  });

  it('answers 500 with the reason when its configuration is invalid, and recovers once it is fixed', async () => {
    // Prepare: a Lambda whose packaged config has a mistake
    const path = writeConfig('services:\n  qaagent: { name: QA, url: "ftp://nope" }\n');
    const fresh = lambdaHandler(FUNCTIONS.health, FUNCTIONS.health.routes, () =>
      contextFromEnvironment({ AEGIS_CONFIG: path, LOG_LEVEL: 'SILENT' }, '/'),
    );
    // Act
    const broken = await invokeHandler(fresh, { path: '/health' });
    // Assess
    expect(broken.status).toBe(500);
    expect(broken.json).toEqual({
      error: 'configuration_error',
      message: expect.stringContaining('services.qaagent.url: must be an http(s) URL'),
    });
    writeFileSync(path, CONFIG);
    expect((await invokeHandler(fresh, { path: '/health' })).status).toBe(200);
  });
});
