import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { runAegis } from '#test/support/cli-process.ts';
import { testContext } from '#test/support/context.ts';
import { eventually, startTestHost } from '#test/support/host.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { rawStream, streamClient } from '#test/support/sse.ts';
import { QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';
import { FUNCTIONS } from '../index.ts';

/** SPEC §13: `GET /api/events/stream`, seen by a real EventSource client over HTTP. */

async function setup(env: Record<string, string> = {}, extra = '') {
  const qa = await stubForTest({
    ...QA_AGENT_ROUTES,
    // Slow enough that the first events are seen while the run still goes on.
    'POST /api/runs': { delayMs: 300, body: { total: 2, passed: 2, failed: 0 } },
  });
  const db = join(tempDir(), 'history.db');
  const yaml = `history_db_path: ${db}
${extra}
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke:
    name: Smoke
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: report, service: qaagent }
  other:
    name: Other
    steps: [{ type: report, service: qaagent }]
`;
  const host = await startTestHost(yaml, { env });
  return { ...host, qa, db, yaml, stream: `${host.url}/api/events/stream` };
}

const runSync = (url: string, workflow: string) =>
  fetch(`${url}/api/workflows/${workflow}/run`, { method: 'POST' }).then(
    async (r) => (await r.json()) as { run_id: string },
  );

describe('GET /api/events/stream', () => {
  it("delivers a run's five events live, in order, as id, event type and the event's JSON", async () => {
    // Prepare
    const { url, stream } = await setup();
    const client = streamClient(stream);
    await client.opened;
    // Act
    const running = runSync(url, 'smoke');
    const [first] = await client.waitFor(1);
    const answeredAt = await running.then(() => Date.now());
    const messages = await client.waitFor(5);
    // Assess
    const { run_id } = await running;
    expect(messages.map((m) => m.type)).toEqual([
      'workflow.started',
      'step.completed',
      'step.completed',
      'step.completed',
      'workflow.completed',
    ]);
    expect(first?.at).toBeLessThan(answeredAt); // live: seen while the run was still going
    const listed = (await (await fetch(`${url}/api/events?limit=5`)).json()) as unknown[];
    expect(messages.map((m) => m.data)).toEqual(listed.toReversed());
    for (const message of messages) {
      expect(message.data.run_id).toBe(run_id);
      expect(message.id).toBe(String(message.data.id));
      expect(message.type).toBe(message.data.event_type);
    }
    const ids = messages.map((m) => m.data.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('replays the stored events after Last-Event-ID (or ?after=) before the live ones', async () => {
    // Prepare
    const { url, stream } = await setup();
    await runSync(url, 'other');
    await runSync(url, 'other');
    const stored = (await (await fetch(`${url}/api/events?limit=6`)).json()) as { id: number }[];
    const ids = stored.map((e) => e.id).toReversed();
    // Act
    const byHeader = streamClient(stream, { 'last-event-id': String(ids[1]) });
    const byQuery = streamClient(`${stream}?after=${ids[3]}`);
    // The header wins: it is what a reconnecting EventSource sends, with the first URL's ?after=.
    const both = streamClient(`${stream}?after=0`, { 'last-event-id': String(ids[4]) });
    const replayed = await byHeader.waitFor(4);
    const fromQuery = await byQuery.waitFor(2);
    const fromBoth = await both.waitFor(1);
    const { run_id } = await runSync(url, 'other');
    const live = await byHeader.waitFor(7);
    // Assess
    expect(replayed.map((m) => m.data.id)).toEqual(ids.slice(2));
    expect(fromQuery.map((m) => m.data.id)).toEqual(ids.slice(4));
    expect(fromBoth.map((m) => m.data.id)).toEqual(ids.slice(5));
    expect(live.slice(4).map((m) => m.data.run_id)).toEqual([run_id, run_id, run_id]);
    expect(new Set(live.map((m) => m.data.id)).size).toBe(7); // nothing twice
  });

  it('delivers events another process stored on the same database within a second', async () => {
    // Prepare
    const { stream, yaml, dir } = await setup();
    const client = streamClient(stream);
    await client.opened;
    // Act: `aegis run` in its own process, on the same file.
    const result = await runAegis(['run', 'other', '--config', writeConfig(yaml, tempDir())], {
      cwd: dir,
    });
    const messages = await client.waitFor(3, 3_000);
    // Assess
    expect(result.code).toBe(0);
    expect(messages.map((m) => m.type)).toEqual([
      'workflow.started',
      'step.completed',
      'workflow.completed',
    ]);
    for (const message of messages)
      expect(message.at - Date.parse(message.data.timestamp)).toBeLessThan(1_000);
  });

  it('filters by workflow, run and event type', async () => {
    // Prepare
    const { url, stream } = await setup();
    const byWorkflow = streamClient(`${stream}?workflow=other`);
    const byType = streamClient(`${stream}?event_type=workflow.completed`);
    await Promise.all([byWorkflow.opened, byType.opened]);
    // Act
    await runSync(url, 'smoke');
    const { run_id } = await runSync(url, 'other');
    const byRun = streamClient(`${stream}?run_id=${run_id}&after=0`);
    // Assess
    const other = await byWorkflow.waitFor(3);
    expect(other.every((m) => m.data.workflow_name === 'other')).toBe(true);
    const completed = await byType.waitFor(2);
    expect(completed.map((m) => [m.type, m.data.workflow_name])).toEqual([
      ['workflow.completed', 'smoke'],
      ['workflow.completed', 'other'],
    ]);
    const ofRun = await byRun.waitFor(3);
    expect(ofRun.every((m) => m.data.run_id === run_id)).toBe(true);
    await runSync(url, 'smoke');
    await byType.waitFor(3);
    expect(byWorkflow.messages).toHaveLength(3);
    expect(byRun.messages).toHaveLength(3);
  });

  it('refuses an unknown event type, a malformed Last-Event-ID or ?after= with a 400 that says why', async () => {
    // Prepare
    const { stream } = await setup();
    // Act
    const answers = await Promise.all([
      fetch(`${stream}?event_type=workflow.done`),
      fetch(stream, { headers: { 'last-event-id': 'abc' } }),
      fetch(`${stream}?after=-1`),
      fetch(`${stream}?colour=blue`),
    ]);
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as { message: string }[];
    // Assess
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400]);
    expect(bodies[0]?.message).toMatch(
      /event_type.*workflow\.started, step\.completed, failure\.detected, workflow\.completed, workflow\.cancelled/,
    );
    expect(bodies[1]?.message).toMatch(/Last-Event-ID.*"abc"/);
    expect(bodies[2]?.message).toMatch(/'after'/);
    expect(bodies[3]?.message).toMatch(/colour/);
  });

  it('caps the open streams: one more is a 503 that says so; a closed one frees its place', async () => {
    // Prepare
    const { stream, context } = await setup({ AEGIS_EVENT_STREAMS_MAX: '2' });
    const first = streamClient(stream);
    const second = streamClient(stream);
    await Promise.all([first.opened, second.opened]);
    // Act
    const refused = await fetch(stream);
    const body = (await refused.json()) as { error: string; message: string };
    first.close();
    await eventually(() => (context.eventFeed.size === 1 ? true : undefined));
    const third = streamClient(stream);
    // Assess
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(body).toEqual({
      error: 'service_unavailable',
      message: expect.stringMatching(/at most 2 \(AEGIS_EVENT_STREAMS_MAX\)/),
    });
    await third.opened;
    expect(context.eventFeed.size).toBe(2);
  });

  it('forgets a stream whose client went away, and logs it', async () => {
    // Prepare
    const { stream, context, logs } = await setup();
    const client = streamClient(stream);
    await client.opened;
    expect(context.eventFeed.size).toBe(1);
    // Act
    client.close();
    // Assess
    await eventually(() => (context.eventFeed.size === 0 ? true : undefined), 2_000, 'the close');
    const line = await eventually(() =>
      logs().find((l) => l.message === 'request' && l.path === '/api/events/stream'),
    );
    expect(line.status).toBe(200);
  });

  it('sends a keep-alive comment at the configured interval', async () => {
    // Prepare
    const { stream } = await setup({ AEGIS_EVENT_STREAM_HEARTBEAT_S: '0.05' });
    // Act
    const { status, contentType, text } = await rawStream(stream, 400);
    // Assess
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(text.startsWith('retry: 1000\n')).toBe(true);
    expect(text.split(': keep-alive\n\n').length - 1).toBeGreaterThanOrEqual(3);
  });

  it('answers HEAD with the headers alone, holding no stream open', async () => {
    // Prepare
    const { stream, context } = await setup();
    // Act
    const answer = await fetch(stream, { method: 'HEAD' });
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(context.eventFeed.size).toBe(0);
  });

  it('ends its streams when the host shuts down, within the grace', async () => {
    // Prepare
    const { stream, host } = await setup();
    const reading = rawStream(stream, 10_000);
    await eventually(() => (host.server.listening ? true : undefined));
    const client = streamClient(stream);
    await client.opened;
    // Act
    const started = Date.now();
    await host.close({ graceMs: 1_000 });
    const { text } = await reading;
    // Assess
    // Well before the 1 s after which the host would cut open connections off.
    expect(Date.now() - started).toBeLessThan(500);
    expect(text.startsWith('retry: 1000\n')).toBe(true);
  });

  it('needs a read key when protect_reads is on', async () => {
    // Prepare
    const { stream } = await setup(
      {},
      'auth:\n  protect_reads: true\n  keys: [{ name: watcher, key: watch-key-1, scopes: [read] }]',
    );
    // Act
    const anonymous = await fetch(stream);
    const client = streamClient(stream, { 'x-api-key': 'watch-key-1' });
    // Assess
    expect(anonymous.status).toBe(401);
    await client.opened;
  });

  it('answers 501 on Lambda, which cannot stream', async () => {
    // Prepare
    const { context } = testContext('services: {}\n');
    const handler = createApiHandler(context, FUNCTIONS.events);
    // Act
    const answer = await invokeHandler(handler, { path: '/api/events/stream' });
    // Assess
    expect(answer.status).toBe(501);
    expect(answer.json).toEqual({
      error: 'not_implemented',
      message: expect.stringMatching(/API Gateway.*poll GET \/api\/events/),
    });
  });
});
