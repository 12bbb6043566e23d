import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledEvent } from '#shared/http-api/apigw-event.ts';
import { createApiHandler, lambdaHandler } from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { FUNCTIONS } from '../index.ts';
import { drainOnSchedule } from './scheduled-drain.ts';

let qa: StubService;
let hook: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
  hook = await startStub({ 'POST /hook': { body: {} }, 'POST /broken': { status: 500 } });
});
afterAll(async () => {
  await qa.close();
  await hook.close();
});

function setup(extra = '') {
  const test = testContext(`
${extra}
webhooks:
  - { url: "${hook.url}/hook", events: [workflow.completed], secret: top-secret-value }
  - { url: "${hook.url}/broken", events: ["*"] }
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`);
  return { ...test, handler: createApiHandler(test.context, FUNCTIONS.webhooks) };
}

describe('webhooks function', () => {
  it('lists the webhooks with url, events and whether they are signed, never the secret', async () => {
    const { handler } = setup();
    const answer = await invokeHandler(handler, { path: '/api/webhooks' });
    expect(answer.json).toEqual([
      { url: `${hook.url}/hook`, events: ['workflow.completed'], signed: true },
      { url: `${hook.url}/broken`, events: ['*'], signed: false },
    ]);
    expect(answer.body).not.toContain('top-secret-value');
  });

  it('lists the outbox newest first, filtered by status and limited', async () => {
    const { context, handler } = setup();
    const run = await context.runWorkflow('smoke');
    const all = (await invokeHandler(handler, { path: '/api/webhooks/deliveries' })).json as Record<
      string,
      unknown
    >[];
    expect(all).toHaveLength(4); // workflow.completed to /hook; all three events to /broken
    expect(all[0]).toEqual({
      id: expect.any(Number),
      webhook_id: expect.stringMatching(/^msg_/),
      event_type: 'workflow.completed',
      run_id: run.run_id,
      url: expect.any(String),
      status: 'pending',
      attempts: 0,
      last_status_code: null,
      last_error: null,
      created_at: expect.any(String),
      next_attempt_at: expect.any(String),
      delivered_at: null,
    });
    expect((all[0]?.id as number) > (all[3]?.id as number)).toBe(true);
    expect(
      (
        (await invokeHandler(handler, { path: '/api/webhooks/deliveries', query: 'limit=2' }))
          .json as unknown[]
      ).length,
    ).toBe(2);
    expect(
      (
        await invokeHandler(handler, {
          path: '/api/webhooks/deliveries',
          query: 'status=delivered',
        })
      ).json,
    ).toEqual([]);
    const bad = await invokeHandler(handler, {
      path: '/api/webhooks/deliveries',
      query: 'status=sent',
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      message: 'query parameter \'status\': must be one of pending, delivered, failed, got "sent"',
    });
  });

  it('drains due deliveries on an EventBridge schedule event and returns', async () => {
    const { context } = setup();
    await context.runWorkflow('smoke');
    const summary = await drainOnSchedule(context, { getRemainingTimeInMillis: () => 60_000 });
    expect(summary.webhooks).toEqual({
      attempted: 4,
      delivered: 1,
      retrying: 3,
      failed: 0,
      pending: 3,
    });
    expect(hook.calls('POST /hook').at(-1)?.headers['webhook-id']).toMatch(/^msg_/);
  });

  it('the Lambda handler tells a schedule event from an HTTP event', async () => {
    const { context } = setup();
    await context.runWorkflow('smoke');
    const { handler } = await import('./handler.ts');
    const viaHttp = lambdaHandler(FUNCTIONS.webhooks, FUNCTIONS.webhooks.routes, () => context);
    expect((await invokeHandler(viaHttp, { path: '/api/webhooks' })).status).toBe(200);
    // The module's own handler builds its context from the environment; point it at this test's config and database.
    process.env.AEGIS_CONFIG = context.configSource ?? '';
    process.env.AEGIS_DB_PATH = context.config.history_db_path;
    process.env.LOG_LEVEL = 'SILENT';
    try {
      const drained = (await handler(scheduledEvent(), {
        getRemainingTimeInMillis: () => 60_000,
      })) as { webhooks: { attempted: number } };
      expect(drained.webhooks.attempted).toBe(4);
    } finally {
      delete process.env.AEGIS_CONFIG;
      delete process.env.AEGIS_DB_PATH;
      delete process.env.LOG_LEVEL;
    }
  });

  describe('redelivery', () => {
    it('queues a delivery again with the same webhook-id, and needs the API key when auth is on', async () => {
      const { context, handler } = setup('auth: { api_key: the-key }');
      await context.runWorkflow('smoke');
      const stores = await context.stores();
      await drainOnSchedule(context);
      const [delivered] = await stores.outbox.list({ status: 'delivered', limit: 1 });
      expect(delivered).toBeDefined();
      const path = `/api/webhooks/deliveries/${delivered?.id}/redeliver`;

      expect((await invokeHandler(handler, { method: 'POST', path })).status).toBe(401);
      const answer = await invokeHandler(handler, {
        method: 'POST',
        path,
        headers: { 'x-api-key': 'the-key' },
      });
      expect(answer.status).toBe(202);
      expect(answer.json).toMatchObject({
        id: delivered?.id,
        webhook_id: delivered?.webhook_id,
        status: 'pending',
        attempts: 0,
        delivered_at: null,
      });

      const before = hook.calls('POST /hook').length;
      await drainOnSchedule(context);
      const resent = hook.calls('POST /hook').slice(before);
      expect(resent.map((r) => r.headers['webhook-id'])).toEqual([delivered?.webhook_id]);
    });

    it('answers 404 for an unknown delivery and 400 for an id that is not a positive integer', async () => {
      const { handler } = setup();
      expect(
        (
          await invokeHandler(handler, {
            method: 'POST',
            path: '/api/webhooks/deliveries/999/redeliver',
          })
        ).json,
      ).toEqual({
        error: 'not_found',
        message: 'no webhook delivery with id 999',
      });
      const bad = await invokeHandler(handler, {
        method: 'POST',
        path: '/api/webhooks/deliveries/abc/redeliver',
      });
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({
        message: 'path parameter \'id\': must be a decimal integer ≥ 1, got "abc"',
      });
    });
  });
});
