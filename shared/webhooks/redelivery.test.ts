import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHost, type TestHost } from '#test/support/host.ts';
import {
  QA_AGENT_ROUTES,
  type StubAnswer,
  type StubService,
  startStub,
  stubForTest,
} from '#test/support/stub-service.ts';
import type { Delivery } from './outbox.ts';
import type { RetryPolicy } from './retry-policy.ts';

let qa: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
});
afterAll(() => qa.close());

/** A receiver answering each call as `answer` says; the test holds calls with `waitFor`. */
async function receiver(answer: (call: number) => StubAnswer) {
  const stub = await stubForTest({ 'POST /hook': (_request, call) => answer(call) });
  return { url: `${stub.url}/hook`, calls: () => stub.calls('POST /hook') };
}

/** A promise the test settles when it wants the held answer to go out. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function hostFor(hookUrl: string, policy: RetryPolicy): Promise<TestHost> {
  return startTestHost(
    `
webhooks:
  - { url: "${hookUrl}", events: [workflow.completed] }
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`,
    { retryPolicy: policy },
  );
}

async function deliveries(url: string): Promise<Delivery[]> {
  return (await (await fetch(`${url}/api/webhooks/deliveries`)).json()) as Delivery[];
}

async function redeliver(url: string, id: number): Promise<{ status: number; body: Delivery }> {
  const answer = await fetch(`${url}/api/webhooks/deliveries/${id}/redeliver`, { method: 'POST' });
  return { status: answer.status, body: (await answer.json()) as Delivery };
}

async function startRun(url: string): Promise<void> {
  await fetch(`${url}/api/workflows/smoke/run`, { method: 'POST' });
}

const callsReach = (calls: () => unknown[], n: number) => () =>
  calls().length >= n ? calls() : undefined;

describe('a redelivery asked for while an attempt is in flight', () => {
  it('stands when that attempt ends with a 410: the delivery is sent again and delivered', async () => {
    // Prepare: the receiver holds the first attempt until the test has redelivered
    const held = gate();
    const hook = await receiver((call) =>
      call === 1 ? { status: 410, waitFor: held.opened } : {},
    );
    const test = await hostFor(hook.url, { delaysMs: [50, 100], random: () => 0.5 });
    await startRun(test.url);
    await eventually(callsReach(hook.calls, 1), 2_000, 'the first attempt');
    const [inFlight] = await deliveries(test.url);
    // Act
    const answer = await redeliver(test.url, inFlight?.id ?? 0);
    held.open();
    // Assess
    expect(answer.status).toBe(202);
    const delivered = await eventually(
      async () => (await deliveries(test.url)).find((d) => d.status === 'delivered'),
      3_000,
      'the redelivery to be delivered',
    );
    expect(delivered).toMatchObject({ id: inFlight?.id, attempts: 1, last_status_code: 200 });
    const [first, second] = hook.calls();
    expect(hook.calls()).toHaveLength(2);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    // The attempt log keeps the overtaken attempt's outcome.
    const log = await (await test.context.stores()).outbox.attemptLog(delivered.id);
    expect(log).toMatchObject([
      { attempt: 1, status_code: 410, outcome: 'failed', error: 'HTTP 410 (not retried)' },
      { attempt: 1, status_code: 200, outcome: 'delivered', error: null },
    ]);
    const overtaken = test.logs().find((line) => line.status_code === 410);
    expect(overtaken).toMatchObject({
      message: 'webhook attempt',
      outcome: 'failed',
      overtaken_by: 'a redelivery or another worker',
    });
  });

  it('stands when that attempt ends with a 503 late in the backoff: it is due now, not in a minute', async () => {
    // Prepare: two quick 503s, then a third, held, whose retry would wait a minute
    const held = gate();
    const hook = await receiver((call) =>
      call < 3 ? { status: 503 } : call === 3 ? { status: 503, waitFor: held.opened } : {},
    );
    const test = await hostFor(hook.url, { delaysMs: [20, 20, 60_000], random: () => 0.5 });
    await startRun(test.url);
    await eventually(callsReach(hook.calls, 3), 3_000, 'the third attempt');
    const [inFlight] = await deliveries(test.url);
    expect(inFlight).toMatchObject({ status: 'pending', attempts: 2 });
    // Act
    const answer = await redeliver(test.url, inFlight?.id ?? 0);
    held.open();
    // Assess
    expect(answer.body).toMatchObject({ status: 'pending', attempts: 0 });
    await eventually(callsReach(hook.calls, 4), 3_000, 'the redelivery');
    const delivered = await eventually(
      async () => (await deliveries(test.url)).find((d) => d.status === 'delivered'),
      2_000,
      'the delivery to be recorded delivered',
    );
    expect(delivered).toMatchObject({ attempts: 1, last_error: null });
    const log = await (await test.context.stores()).outbox.attemptLog(delivered.id);
    expect(log.map((entry) => [entry.attempt, entry.status_code, entry.outcome])).toEqual([
      [1, 503, 'retry'],
      [2, 503, 'retry'],
      [3, 503, 'retry'],
      [1, 200, 'delivered'],
    ]);
  });
});

describe('a redelivery of a delivery still pending', () => {
  it('starts a fresh round of attempts instead of keeping the ones it used', async () => {
    // Prepare: a receiver that is down; three attempts used, the next a minute away
    const hook = await receiver(() => ({ status: 503 }));
    const test = await hostFor(hook.url, { delaysMs: [20, 20, 60_000], random: () => 0.5 });
    await startRun(test.url);
    const waiting = await eventually(
      async () => (await deliveries(test.url)).find((d) => d.attempts === 3),
      3_000,
      'three attempts',
    );
    const dueLater = Date.parse(waiting.next_attempt_at ?? '');
    expect(dueLater - Date.now()).toBeGreaterThan(30_000);
    // Act
    const asked = Date.now();
    const answer = await redeliver(test.url, waiting.id);
    // Assess: due now, with none of its attempts used
    expect(answer.body).toMatchObject({ status: 'pending', attempts: 0 });
    expect(Date.parse(answer.body.next_attempt_at ?? '')).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(answer.body.next_attempt_at ?? '')).toBeGreaterThanOrEqual(asked - 1_000);
    // The whole schedule again: three more attempts, and still pending rather than failed
    await eventually(callsReach(hook.calls, 6), 3_000, 'a second round of three attempts');
    const [after] = await eventually(async () => {
      const list = await deliveries(test.url);
      return list[0]?.attempts === 3 ? list : undefined;
    });
    expect(after).toMatchObject({ status: 'pending', attempts: 3 });
  });
});
