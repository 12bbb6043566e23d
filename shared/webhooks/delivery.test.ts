import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost } from '#local-host/host/start-host.ts';
import { testContext } from '#test/support/context.ts';
import { eventually, startTestHost } from '#test/support/host.ts';
import {
  QA_AGENT_ROUTES,
  type RecordedRequest,
  type StubService,
  startStub,
} from '#test/support/stub-service.ts';
import { PACKAGE_VERSION } from '../version.ts';
import { drainDue } from './drain.ts';

const SECRET = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr';
/** Quick retries for tests; the real schedule is covered in retry-policy.test.ts. */
const FAST = { delaysMs: [50, 100, 200], random: () => 0.5 };

let qa: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
});
afterAll(() => qa.close());

function config(hooks: string, extra = '') {
  return `
${extra}
webhooks:
${hooks}
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
  failing: { name: Failing, steps: [{ type: test, service: qaagent, timeout: 0.2 }] }
`;
}

async function receiver(
  answer: (
    request: RecordedRequest,
    call: number,
  ) => { status?: number; headers?: Record<string, string>; delayMs?: number } = () => ({}),
) {
  const stub = await startStub({
    'POST /hook': (request, call) => ({ body: {}, ...answer(request, call) }),
  });
  return { stub, url: `${stub.url}/hook`, hooks: () => stub.calls('POST /hook') };
}

async function run(url: string, workflow = 'smoke', headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/api/workflows/${workflow}/run`, { method: 'POST', headers });
  return (await response.json()) as { run_id: string; success: boolean };
}

describe('webhook delivery through the host', () => {
  it('delivers a run’s event within a second, signed twice over the exact bytes sent', async () => {
    // Prepare
    const hook = await receiver();
    const { url } = await startTestHost(
      config(`  - { url: "${hook.url}", events: [workflow.completed], secret: "${SECRET}" }`),
    );
    // Act
    const started = Date.now();
    const result = await run(url);
    const [request] = await eventually(
      () => (hook.hooks().length > 0 ? hook.hooks() : undefined),
      1_000,
      'the webhook',
    );
    // Assess
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe(`Aegis/${PACKAGE_VERSION}`);
    expect(request?.json).toEqual({
      event_type: 'workflow.completed',
      timestamp: expect.any(String),
      workflow_name: 'smoke',
      run_id: result.run_id,
      data: {
        success: true,
        total_duration_ms: expect.any(Number),
        steps_passed: 1,
        steps_failed: 0,
        steps_skipped: 0,
      },
    });
    // The original's signature: hex HMAC-SHA256 of the body.
    expect(request?.headers['x-aegis-signature']).toBe(
      createHmac('sha256', SECRET)
        .update(request?.body ?? '')
        .digest('hex'),
    );
    // The Standard Webhooks signature, verified by the reference library as a receiver would.
    const verifier = new Webhook(new TextEncoder().encode(SECRET), { format: 'raw' });
    expect(
      verifier.verify(request?.body ?? '', request?.headers as Record<string, string>),
    ).toEqual(request?.json);
    expect(Number(request?.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    await hook.stub.close();
  });

  it('signs with every secret of a rotation, so receivers on the new or the old one verify it', async () => {
    // Prepare
    const OLD_SECRET = 'the-secret-being-retired';
    const hook = await receiver();
    const { url, logText } = await startTestHost(
      config(`  - { url: "${hook.url}", secret: ["${SECRET}", "${OLD_SECRET}"] }`),
    );

    // Act
    await run(url);
    const [request] = await eventually(
      () => (hook.hooks().length > 0 ? hook.hooks() : undefined),
      1_000,
      'the webhook',
    );
    const listed = await (await fetch(`${url}/api/webhooks`)).text();

    // Assess: the same delivery, verified by the reference library with either secret.
    const headers = request?.headers as Record<string, string>;
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    for (const secret of [SECRET, OLD_SECRET]) {
      const verifier = new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
      expect(verifier.verify(request?.body ?? '', headers)).toEqual(request?.json);
    }
    expect(headers['x-aegis-signature']).toBe(
      createHmac('sha256', SECRET)
        .update(request?.body ?? '')
        .digest('hex'),
    );
    expect(JSON.parse(listed)).toEqual([
      { url: hook.url, events: ['workflow.completed'], signed: true },
    ]);
    for (const text of [listed, logText()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(OLD_SECRET);
    }
    await hook.stub.close();
  });

  it('sends unsigned when no secret is set, and never sends an event type a webhook did not ask for', async () => {
    const all = await receiver();
    const failures = await receiver();
    const { url } = await startTestHost(
      config(
        `  - { url: "${all.url}", events: ["*"] }\n  - { url: "${failures.url}", events: [failure.detected] }`,
      ),
    );
    await run(url, 'smoke');
    const received = await eventually(
      () => (all.hooks().length >= 3 ? all.hooks() : undefined),
      2_000,
      'three events',
    );
    expect(received.map((r) => (r.json as { event_type: string }).event_type)).toEqual([
      'workflow.started',
      'step.completed',
      'workflow.completed',
    ]);
    expect(received[0]?.headers['x-aegis-signature']).toBeUndefined();
    expect(received[0]?.headers['webhook-signature']).toBeUndefined();
    expect(received[0]?.headers['webhook-id']).toMatch(/^msg_/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(failures.hooks()).toHaveLength(0);
    await all.stub.close();
    await failures.stub.close();
  });

  it('retries a receiver that answered 503 with the same webhook-id, then records it delivered', async () => {
    const hook = await receiver((_request, call) => (call === 1 ? { status: 503 } : {}));
    const { url } = await startTestHost(config(`  - { url: "${hook.url}", secret: "${SECRET}" }`), {
      retryPolicy: FAST,
    });
    await run(url);
    const [first, second] = await eventually(
      () => (hook.hooks().length >= 2 ? hook.hooks() : undefined),
      3_000,
      'the retry',
    );
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.body).toBe(first?.body);
    const delivery = await eventually(async () => {
      const [latest] = (await (await fetch(`${url}/api/webhooks/deliveries`)).json()) as {
        status: string;
        attempts: number;
        last_status_code: number;
      }[];
      return latest?.status === 'delivered' ? latest : undefined;
    });
    expect(delivery).toMatchObject({ attempts: 2, last_status_code: 200, last_error: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.hooks()).toHaveLength(2); // a 2xx is never sent again
    await hook.stub.close();
  });

  it('stops on 410 and other 4xx, does not follow redirects, and honours Retry-After', async () => {
    const gone = await receiver(() => ({ status: 410 }));
    const redirect = await receiver((_r, call) =>
      call === 1 ? { status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } } : {},
    );
    const limited = await receiver((_r, call) =>
      call === 1 ? { status: 429, headers: { 'retry-after': '1' } } : {},
    );
    const { url } = await startTestHost(
      config(
        `  - { url: "${gone.url}" }\n  - { url: "${redirect.url}" }\n  - { url: "${limited.url}" }`,
      ),
      { retryPolicy: FAST },
    );
    const limitedAt = Date.now();
    await run(url);
    const deliveries = await eventually(
      async () => {
        const list = (await (await fetch(`${url}/api/webhooks/deliveries`)).json()) as {
          url: string;
          status: string;
          attempts: number;
          last_error: string | null;
        }[];
        return list.every((d) => d.status !== 'pending') ? list : undefined;
      },
      4_000,
      'every delivery to settle',
    );
    const byUrl = (u: string) => deliveries.find((d) => d.url === u);
    expect(byUrl(gone.url)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'HTTP 410 (not retried)',
    });
    expect(byUrl(redirect.url)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(byUrl(limited.url)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(limited.hooks()[1]).toBeDefined();
    expect(Date.now() - limitedAt).toBeGreaterThanOrEqual(1_000); // waited as Retry-After asked, not 50 ms
    expect(gone.hooks()).toHaveLength(1);
    for (const r of [gone, redirect, limited]) await r.stub.close();
  });

  it('marks a delivery failed once every attempt failed', async () => {
    const hook = await receiver(() => ({ status: 500 }));
    const { url } = await startTestHost(config(`  - { url: "${hook.url}" }`), {
      retryPolicy: FAST,
    });
    await run(url);
    const failed = await eventually(
      async () => {
        const [d] = (await (
          await fetch(`${url}/api/webhooks/deliveries?status=failed`)
        ).json()) as { attempts: number; last_error: string }[];
        return d;
      },
      3_000,
      'the delivery to fail',
    );
    expect(failed).toMatchObject({
      attempts: 4,
      last_error: 'HTTP 500 (gave up after 4 attempts)',
    });
    expect(hook.hooks()).toHaveLength(4);
    await hook.stub.close();
  });

  it('loses nothing when the receiver is down: it arrives after both come back, even across a host restart', async () => {
    // Prepare: a receiver address nobody listens on yet
    const placeholder = await receiver();
    const port = placeholder.stub.port;
    await placeholder.stub.close();
    const hookUrl = `http://127.0.0.1:${port}/hook`;
    const first = testContext(config(`  - { url: "${hookUrl}", secret: "${SECRET}" }`), {});
    const host = await startHost({
      context: first.context,
      host: '127.0.0.1',
      port: 0,
      retryPolicy: FAST,
    });
    // Act: the run's delivery fails while the receiver is down, then the host stops
    const result = await run(host.url);
    await eventually(
      async () =>
        ((await (await first.context.stores()).outbox.list({ limit: 1 }))[0]?.attempts ?? 0) >= 1 ||
        undefined,
      2_000,
    );
    await host.close({ graceMs: 500 });
    // The receiver comes back, and so does the host, on the same database
    const back = await startStub({ 'POST /hook': { body: {} } }, port);
    const second = testContext(config(`  - { url: "${hookUrl}", secret: "${SECRET}" }`), {
      AEGIS_DB_PATH: first.context.config.history_db_path,
    });
    const restarted = await startHost({
      context: second.context,
      host: '127.0.0.1',
      port: 0,
      retryPolicy: FAST,
    });
    // Assess
    const [request] = await eventually(
      () => (back.calls('POST /hook').length > 0 ? back.calls('POST /hook') : undefined),
      3_000,
      'the delivery',
    );
    expect(request?.json).toMatchObject({ run_id: result.run_id });
    await restarted.close({ graceMs: 500 });
    await back.close();
  });

  it('answers a run at once while a receiver takes 5 s to answer', async () => {
    const slow = await receiver(() => ({ delayMs: 5_000 }));
    const { url } = await startTestHost(config(`  - { url: "${slow.url}", events: ["*"] }`));
    await run(url); // warm up
    const started = performance.now();
    await run(url);
    expect(performance.now() - started).toBeLessThan(1_000);
    await slow.stub.close();
  });

  it('never shows or logs the secret', async () => {
    const hook = await receiver(() => ({ status: 503 }));
    const { url, logText } = await startTestHost(
      config(
        `  - { url: "${hook.url}", secret: "${SECRET}" }`,
        'auth: { api_key: "api-key-that-must-not-leak" }',
      ),
      { retryPolicy: FAST },
    );
    await run(url, 'smoke', { 'x-api-key': 'api-key-that-must-not-leak' });
    await eventually(() => (hook.hooks().length >= 2 ? true : undefined), 2_000);
    const answers = await Promise.all(
      [
        '/api/webhooks',
        '/api/webhooks/deliveries',
        '/api/events',
        '/api/history',
        '/openapi.json',
        '/api/portfolio',
      ].map(async (p) => (await fetch(`${url}${p}`)).text()),
    );
    const webhooks = JSON.parse(answers[0] ?? '[]') as unknown;
    expect(webhooks).toEqual([{ url: hook.url, events: ['workflow.completed'], signed: true }]);
    for (const text of [...answers, logText()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('api-key-that-must-not-leak');
    }
    await hook.stub.close();
  });
});

describe('two processes sharing one database', () => {
  it('never send the same attempt twice', async () => {
    // Prepare: ten queued deliveries, two independent workers (two clients on one file)
    const hook = await receiver(() => ({ delayMs: 30 }));
    const a = testContext(config(`  - { url: "${hook.url}", events: ["*"] }`));
    const b = testContext(config(`  - { url: "${hook.url}", events: ["*"] }`), {
      AEGIS_DB_PATH: a.context.config.history_db_path,
    });
    for (let i = 0; i < 3; i++) await a.context.runWorkflow('smoke');
    const [storesA, storesB] = await Promise.all([a.context.stores(), b.context.stores()]);
    // Act
    const drain = (stores: typeof storesA, logger: typeof a.context.logger) =>
      drainDue({
        outbox: stores.outbox,
        webhooks: a.context.config.webhooks,
        logger,
        batchSize: 2,
      });
    const [first, second] = await Promise.all([
      drain(storesA, a.context.logger),
      drain(storesB, b.context.logger),
    ]);
    // Assess: each of the nine deliveries was sent exactly once, by one of the two
    const ids = hook.hooks().map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);
    expect(first.attempted + second.attempted).toBe(9);
    expect(await storesA.outbox.pendingCount()).toBe(0);
    await hook.stub.close();
  });
});
