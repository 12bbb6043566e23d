import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { testContext } from '#test/support/context.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { FUNCTIONS } from '../index.ts';

let qa: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
});
afterAll(() => qa.close());

function setup(extra = '') {
  const test = testContext(`
${extra}
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }, { type: report, service: qaagent }] }
`);
  return { ...test, handler: createApiHandler(test.context, FUNCTIONS.events) };
}

describe('events function', () => {
  it('lists the newest events first, each with type, time, workflow, run id and data', async () => {
    const { context, handler } = setup();
    const run = await context.runWorkflow('smoke');
    const answer = await invokeHandler(handler, { path: '/api/events' });
    expect(answer.status).toBe(200);
    const events = answer.json as {
      event_type: string;
      run_id: string;
      timestamp: string;
      workflow_name: string;
      data: object;
    }[];
    expect(events.map((e) => e.event_type)).toEqual([
      'workflow.completed',
      'step.completed',
      'step.completed',
      'workflow.started',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({
        run_id: run.run_id,
        workflow_name: 'smoke',
        data: expect.any(Object),
      });
      expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp);
    }
  });

  it('filters by event type and limits the count', async () => {
    const { context, handler } = setup();
    await context.runWorkflow('smoke');
    await context.runWorkflow('smoke');
    const steps = (
      await invokeHandler(handler, {
        path: '/api/events',
        query: 'event_type=step.completed&limit=3',
      })
    ).json as { event_type: string }[];
    expect(steps).toHaveLength(3);
    expect(new Set(steps.map((e) => e.event_type))).toEqual(new Set(['step.completed']));
  });

  it('keeps only the newest event_log_size events', async () => {
    const { context, handler } = setup('event_log_size: 5');
    await context.runWorkflow('smoke');
    await context.runWorkflow('smoke');
    const events = (await invokeHandler(handler, { path: '/api/events', query: 'limit=100' }))
      .json as unknown[];
    expect(events).toHaveLength(5);
  });

  it('refuses an unknown event type with a 400 that lists the known ones', async () => {
    const { handler } = setup();
    const answer = await invokeHandler(handler, {
      path: '/api/events',
      query: 'event_type=workflow.done',
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: 'bad_request',
      message:
        'query parameter \'event_type\': must be one of workflow.started, step.completed, failure.detected, workflow.completed, workflow.cancelled, got "workflow.done"',
    });
  });
});
