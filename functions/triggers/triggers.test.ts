import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { runCommand } from '#test/support/cli-process.ts';
import { eventually, startTestHost, type TestHost } from '#test/support/host.ts';
import { invokeHandler } from '#test/support/invoke.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { tempDir } from '#test/support/temp.ts';
import { FUNCTIONS } from '../index.ts';

const GITHUB_SECRET = 'gh-trigger-secret';
const STANDARD_SECRET = 'whsec_c3RhbmRhcmQtc2VjcmV0'; // used as written: UTF-8 bytes, not base64-decoded

let qa: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
});
afterAll(() => qa.close());

const CONFIG = () => `
auth:
  api_key: an-api-key-no-trigger-sends
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  ci:
    name: CI
    steps: [{ type: discover, service: qaagent }]
triggers:
  github_push:
    workflow: ci
    source: github
    secret: ${GITHUB_SECRET}
    branches: [main, release]
  github_any:
    workflow: ci
    source: github
    secret: ${GITHUB_SECRET}
    events: [push, pull_request]
  deploys:
    workflow: ci
    source: standard
    secret: ${STANDARD_SECRET}
    events: [deployment.succeeded]
  anything:
    workflow: ci
    source: standard
    secret: ${STANDARD_SECRET}
`;

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function post(
  host: TestHost,
  name: string,
  body: string,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(`${host.url}/api/triggers/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

/** A GitHub delivery as GitHub sends it, signed by GitHub's own implementation. */
async function github(
  host: TestHost,
  name: string,
  payload: unknown,
  {
    event = 'push',
    delivery = randomUUID(),
    secret = GITHUB_SECRET,
  }: { event?: string; delivery?: string; secret?: string } = {},
): Promise<Answer> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return post(host, name, body, {
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-hub-signature-256': await sign(secret, body),
    'user-agent': 'GitHub-Hookshot/test',
  });
}

/** A Standard Webhooks delivery signed by the reference library, keyed with the secret's UTF-8 bytes. */
function standard(
  host: TestHost,
  name: string,
  payload: unknown,
  {
    id = `msg_${randomUUID()}`,
    at = new Date(),
    secret = STANDARD_SECRET,
  }: { id?: string; at?: Date; secret?: string } = {},
): Promise<Answer> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const signer = new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
  return post(host, name, body, {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signer.sign(id, at, body),
  });
}

const PUSH_MAIN = { ref: 'refs/heads/main', after: 'abc123', repository: { full_name: 'o/r' } };

async function runCount(host: TestHost): Promise<number> {
  const { db } = await host.context.stores();
  return Number((await db.execute('SELECT count(*) AS n FROM runs')).rows[0]?.n);
}

async function finished(host: TestHost, runId: string) {
  return eventually(async () => {
    const run = await (await host.context.stores()).history.getRun(runId);
    return run?.status === 'completed' ? run : undefined;
  });
}

describe('POST /api/triggers/{name}: GitHub', () => {
  it('starts a run for a signed push to a listed branch: 202 {run_id, url} with Location, no API key needed', async () => {
    const host = await startTestHost(CONFIG());

    const answer = await github(host, 'github_push', PUSH_MAIN);

    expect(answer.status).toBe(202);
    const runId = answer.json.run_id as string;
    expect(answer.json).toEqual({ run_id: runId, status: 'queued', url: `/api/runs/${runId}` });
    expect(answer.headers.get('location')).toBe(`/api/runs/${runId}`);
    expect(await finished(host, runId)).toMatchObject({
      workflow_name: 'ci',
      trigger: 'trigger:github_push',
      triggered_by: null,
      success: true,
    });
    expect(qa.calls('GET /api/routes').length).toBeGreaterThan(0);
  });

  it('answers a redelivery (same X-GitHub-Delivery) with the first run, and starts nothing', async () => {
    const host = await startTestHost(CONFIG());
    const delivery = randomUUID();
    const first = await github(host, 'github_push', PUSH_MAIN, { delivery });
    await finished(host, first.json.run_id as string);
    const callsBefore = qa.calls('GET /api/routes').length;

    const again = await github(host, 'github_push', PUSH_MAIN, { delivery });

    expect(again.status).toBe(200);
    expect(again.json).toEqual({
      run_id: first.json.run_id,
      status: 'completed',
      url: `/api/runs/${first.json.run_id}`,
    });
    expect(await runCount(host)).toBe(1);
    expect(qa.calls('GET /api/routes').length).toBe(callsBefore);
    // Another delivery of the same push is another run.
    expect((await github(host, 'github_push', PUSH_MAIN)).status).toBe(202);
    expect(await runCount(host)).toBe(2);
  });

  it('dedupes across hosts on one database: a redelivery to the other host answers the same run', async () => {
    const env = { AEGIS_DB_PATH: join(tempDir(), 'shared.db') };
    const a = await startTestHost(CONFIG(), { env });
    const b = await startTestHost(CONFIG(), { env });
    const delivery = randomUUID();

    const [one, two] = await Promise.all([
      github(a, 'github_push', PUSH_MAIN, { delivery }),
      github(b, 'github_push', PUSH_MAIN, { delivery }),
    ]);

    expect([one.status, two.status].sort()).toEqual([200, 202]);
    expect(one.json.run_id).toBe(two.json.run_id);
    expect(await runCount(a)).toBe(1);
  });

  it('answers ping with {pong: true}, and filters events and branches with 200 {ignored} starting nothing', async () => {
    const host = await startTestHost(CONFIG());
    const cases: [string, Answer, unknown][] = [
      [
        'ping',
        await github(host, 'github_push', { zen: 'Keep it logically awesome.' }, { event: 'ping' }),
        { pong: true },
      ],
      [
        'another event',
        await github(host, 'github_push', { action: 'opened' }, { event: 'issues' }),
        { ignored: 'event "issues" is not one of push' },
      ],
      [
        'another branch',
        await github(host, 'github_push', { ref: 'refs/heads/feature/x' }),
        { ignored: 'branch "feature/x" is not one of main, release' },
      ],
      [
        'a tag',
        await github(host, 'github_push', { ref: 'refs/tags/v1.0.0' }),
        { ignored: 'ref refs/tags/v1.0.0 is not a branch' },
      ],
      [
        'an event the trigger does not list',
        await github(host, 'github_any', { action: 'created' }, { event: 'release' }),
        { ignored: 'event "release" is not one of push, pull_request' },
      ],
    ];
    for (const [what, answer, expected] of cases) {
      expect(answer.status, what).toBe(200);
      expect(answer.json, what).toEqual(expected);
    }
    expect(await runCount(host)).toBe(0);
    // Without `branches`, a push to any branch and a listed event start runs.
    expect((await github(host, 'github_any', { ref: 'refs/heads/feature/x' })).status).toBe(202);
    expect(
      (await github(host, 'github_any', { action: 'opened' }, { event: 'pull_request' })).status,
    ).toBe(202);
    expect(await runCount(host)).toBe(2);
  });

  it('refuses a missing, malformed or wrong signature with 401, saying which, and starts nothing', async () => {
    const host = await startTestHost(CONFIG());
    const body = JSON.stringify(PUSH_MAIN);
    const unsigned = await post(host, 'github_push', body, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
    });
    const malformed = await post(host, 'github_push', body, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': 'sha1=0123',
    });
    const wrongSecret = await github(host, 'github_push', PUSH_MAIN, { secret: 'not-the-secret' });
    const tampered = await post(host, 'github_push', body.replace('main', 'mainx'), {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': await sign(GITHUB_SECRET, body),
    });

    expect(unsigned).toMatchObject({
      status: 401,
      json: {
        error: 'unauthorized',
        message: expect.stringContaining('missing X-Hub-Signature-256'),
      },
    });
    expect(malformed.json.message).toBe('X-Hub-Signature-256 must be sha256=<64 hex digits>');
    for (const answer of [wrongSecret, tampered]) {
      expect(answer.status).toBe(401);
      expect(answer.json.message).toContain('X-Hub-Signature-256 does not match the body');
    }
    expect(JSON.stringify([unsigned, malformed, wrongSecret, tampered])).not.toContain(
      GITHUB_SECRET,
    );
    expect(await runCount(host)).toBe(0);
  });

  it('answers 404 for an unknown trigger, 400 for a signed body that is not JSON, 413 over 1 MiB', async () => {
    const host = await startTestHost(CONFIG());

    const unknown = await github(host, 'gitlab_push', PUSH_MAIN);
    const form = await github(
      host,
      'github_push',
      'payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D',
    );
    const array = await github(host, 'github_push', '[1, 2]');
    const huge = await github(host, 'github_push', {
      ref: 'refs/heads/main',
      pad: 'x'.repeat(1_048_576),
    });

    expect(unknown).toMatchObject({
      status: 404,
      json: { message: 'no trigger named "gitlab_push"' },
    });
    expect(form.status).toBe(400);
    expect(form.json.message).toBe(
      'request body is not valid JSON (in GitHub, set the webhook Content type to application/json)',
    );
    expect(array).toMatchObject({
      status: 400,
      json: { message: 'request body must be a JSON object' },
    });
    expect(huge).toMatchObject({ status: 413, json: { error: 'payload_too_large' } });
    expect(await runCount(host)).toBe(0);
  });
});

describe('POST /api/triggers/{name}: Standard Webhooks', () => {
  it('starts a run for a signed delivery of a listed type; the same webhook-id again answers that run', async () => {
    const host = await startTestHost(CONFIG());
    const id = `msg_${randomUUID()}`;

    const first = await standard(
      host,
      'deploys',
      { type: 'deployment.succeeded', data: {} },
      { id },
    );
    // A retry is signed again, with a new timestamp: the id is what makes it the same delivery.
    const retry = await standard(
      host,
      'deploys',
      { type: 'deployment.succeeded', data: {} },
      { id, at: new Date(Date.now() + 2_000) },
    );

    expect(first.status).toBe(202);
    expect(first.headers.get('location')).toBe(`/api/runs/${first.json.run_id}`);
    expect(retry.status).toBe(200);
    expect(retry.json.run_id).toBe(first.json.run_id);
    expect(await finished(host, first.json.run_id as string)).toMatchObject({
      trigger: 'trigger:deploys',
    });
    expect(await runCount(host)).toBe(1);
  });

  it('filters the body type when events are listed, takes every type when not', async () => {
    const host = await startTestHost(CONFIG());

    const other = await standard(host, 'deploys', { type: 'deployment.failed' });
    const untyped = await standard(host, 'deploys', { data: {} });
    const any = await standard(host, 'anything', { data: {} });

    expect(other).toMatchObject({
      status: 200,
      json: { ignored: 'type "deployment.failed" is not one of deployment.succeeded' },
    });
    expect(untyped.json).toEqual({
      ignored: 'the body has no "type" to match deployment.succeeded',
    });
    expect(any.status).toBe(202);
    expect(await runCount(host)).toBe(1);
  });

  it('refuses stale and future timestamps, missing headers and wrong signatures with 401', async () => {
    const host = await startTestHost(CONFIG());
    const payload = { type: 'deployment.succeeded' };

    const stale = await standard(host, 'deploys', payload, {
      at: new Date(Date.now() - 6 * 60_000),
    });
    const future = await standard(host, 'deploys', payload, {
      at: new Date(Date.now() + 6 * 60_000),
    });
    const wrong = await standard(host, 'deploys', payload, { secret: 'another-secret' });
    const missing = await post(host, 'deploys', JSON.stringify(payload), { 'webhook-id': 'msg_1' });

    expect(stale.status).toBe(401);
    expect(stale.json.message).toMatch(
      /^webhook-timestamp is 3\d\d s old, more than the 5 minutes allowed: a stale or replayed delivery/,
    );
    expect(future.json.message).toMatch(/^webhook-timestamp is 3\d\d s in the future/);
    expect(wrong).toMatchObject({
      status: 401,
      json: { message: expect.stringContaining('webhook-signature has no v1 entry that matches') },
    });
    expect(missing.json.message).toBe(
      'missing Standard Webhooks headers webhook-timestamp, webhook-signature',
    );
    expect(await runCount(host)).toBe(0);
  });

  it('takes any matching v1 entry of several (a sender rotating its secret)', async () => {
    const host = await startTestHost(CONFIG());
    const id = `msg_${randomUUID()}`;
    const at = new Date();
    const body = JSON.stringify({ type: 'deployment.succeeded' });
    const sig = (secret: string) =>
      new Webhook(new TextEncoder().encode(secret), { format: 'raw' }).sign(id, at, body);

    const answer = await post(host, 'deploys', body, {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': `${sig('the-new-secret')} v2,ignored ${sig(STANDARD_SECRET)}`,
    });

    expect(answer.status).toBe(202);
  });
});

describe('the triggers function on Lambda', () => {
  it('queues the run from an API Gateway event (the scheduled drain executes it) and refuses a bad signature', async () => {
    const host = await startTestHost(CONFIG(), { env: { AEGIS_RUN_WORKERS: '0' } });
    const handler = createApiHandler(host.context, FUNCTIONS.triggers);
    const body = JSON.stringify(PUSH_MAIN);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
    };

    const accepted = await invokeHandler(handler, {
      method: 'POST',
      path: '/api/triggers/github_push',
      headers: { ...headers, 'x-hub-signature-256': await sign(GITHUB_SECRET, body) },
      body,
    });
    const refused = await invokeHandler(handler, {
      method: 'POST',
      path: '/api/triggers/github_push',
      headers: { ...headers, 'x-hub-signature-256': await sign('wrong', body) },
      body,
    });

    expect(accepted.status).toBe(202);
    const runId = (accepted.json as { run_id: string }).run_id;
    expect(await (await host.context.stores()).history.statusOf(runId)).toBe('queued');
    expect(refused.status).toBe(401);
  });
});

describe("the README's trigger setup", () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const start = readme.indexOf('### Start runs from a webhook instead of a job step');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const block = (language: string, containing: string) => {
    const found = [...section.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))]
      .map((match) => match[1] ?? '')
      .find((text) => text.includes(containing));
    if (found === undefined) throw new Error(`no ${language} block with ${containing}`);
    return found;
  };

  it('takes a GitHub push and the signed curl request it shows, with its config', async () => {
    const env = {
      GITHUB_WEBHOOK_SECRET: 'readme-gh-secret',
      DEPLOY_WEBHOOK_SECRET: 'readme-deploy-secret',
    };
    const host = await startTestHost(
      `services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  full_pipeline: { name: Full, steps: [{ type: discover, service: qaagent }] }
  quick_check: { name: Quick, steps: [{ type: discover, service: qaagent }] }
${block('yaml', 'triggers:')}`,
      { env },
    );

    const push = await github(host, 'github_push', PUSH_MAIN, {
      secret: env.GITHUB_WEBHOOK_SECRET,
    });
    const curl = await runCommand('bash', ['-c', block('sh', 'openssl dgst')], {
      // A HOME of its own: bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are.
      env: { PATH: process.env.PATH, HOME: tempDir(), AEGIS_URL: host.url, ...env },
    });

    expect(push.status).toBe(202);
    expect(curl.stderr).toBe('');
    const answer = JSON.parse(curl.stdout) as { run_id: string; status: string };
    expect(answer.status).toBe('queued');
    expect(await finished(host, answer.run_id)).toMatchObject({
      workflow_name: 'quick_check',
      trigger: 'trigger:deploys',
    });
  });
});
