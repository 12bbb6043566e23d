import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '#functions/index.ts';
import { apiGatewayEvent, scheduledEvent } from '#shared/http-api/apigw-event.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  type StubService,
  startStub,
} from '#test/support/stub-service.ts';
import {
  answerOf,
  buildBundles,
  type Invocation,
  invokeBundle,
  ROOT,
  removeBundles,
} from './test-support/bundles.ts';
import { type HranaServer, startHranaServer } from './test-support/hrana-server.ts';

const MiB = 1024 * 1024;

/**
 * The config packaged into every bundle. Service and webhook URLs and the
 * secrets come from the environment, as on Lambda, where the template passes
 * them in and the packaged file holds no secret.
 */
const PACKAGED_CONFIG = `
aegis: { name: Aegis on Lambda, version: 9.9.9 }
auth: { api_key: "\${AEGIS_API_KEY:-}" }
webhooks:
  - url: "\${WEBHOOK_URL:-http://127.0.0.1:9/hook}"
    events: ["*"]
    secret: "\${WEBHOOK_SECRET:-}"
services:
  qaagent: { name: QA Agent, url: "\${QAAGENT_URL:-http://127.0.0.1:9}" }
  bugalizer: { name: Bug Tracker, url: "\${BUGALIZER_URL:-http://127.0.0.1:9}" }
workflows:
  smoke:
    name: Smoke
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
triggers:
  gh: { workflow: smoke, source: github, secret: "\${TRIGGER_SECRET:-lambda-trigger-secret}" }
`;

const get = (path: string, query = '') => apiGatewayEvent({ path, query });
const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  apiGatewayEvent({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

let configDir: string;
let outdir: string;

beforeAll(() => {
  configDir = mkdtempSync(join(tmpdir(), 'aegis-lambda-config-'));
  writeFileSync(join(configDir, 'lambda.aegis.yaml'), PACKAGED_CONFIG);
  outdir = buildBundles(join(configDir, 'lambda.aegis.yaml'));
});

afterAll(() => {
  removeBundles(outdir);
  rmSync(configDir, { recursive: true, force: true });
});

describe('npm run build:lambda', () => {
  it('builds one minified ESM bundle per function of the registry, with its source map and config', () => {
    for (const name of FUNCTION_NAMES) {
      // Prepare
      const dir = join(outdir, name);
      // Act
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // Assess: the folder SAM packages holds what runs, and nothing else
      expect(readdirSync(dir).sort()).toEqual(['.aegis.yaml', 'index.mjs', 'index.mjs.map']);
      expect(code).toMatch(
        /export\s*\{[^}]*\bhandler\b[^}]*\}\s*;?\s*\n\/\/# sourceMappingURL=index\.mjs\.map\s*$/,
      );
      expect(JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')).version).toBe(3);
      expect(readFileSync(join(dir, '.aegis.yaml'), 'utf8')).toBe(PACKAGED_CONFIG);
      expect(code.split('\n').length, `${name}: minified`).toBeLessThan(1000);
    }
  });

  it('keeps every bundle within 1 MiB', () => {
    const sizes = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, statSync(join(outdir, name, 'index.mjs')).size]),
    );
    for (const [name, bytes] of Object.entries(sizes))
      expect(bytes, `${name}: ${(bytes / 1024).toFixed(0)} KiB`).toBeLessThanOrEqual(MiB);
  });

  it('bundles the web libSQL client and nothing native', () => {
    for (const name of FUNCTION_NAMES) {
      // Prepare
      const meta = JSON.parse(readFileSync(join(`${outdir}-meta`, `${name}.json`), 'utf8')) as {
        inputs: Record<string, unknown>;
      };
      const inputs = Object.keys(meta.inputs);
      const code = readFileSync(join(outdir, name, 'index.mjs'), 'utf8');
      // Assess
      expect(inputs).toContain('node_modules/@libsql/client/lib-esm/web.js');
      expect(
        inputs.filter((path) => /@libsql\/client\/lib-esm\/(node|sqlite3)\.js$/.test(path)),
      ).toEqual([]);
      expect(
        inputs.filter((path) => /node_modules\/(libsql|@libsql\/(linux|darwin|win32)-)/.test(path)),
      ).toEqual([]);
      expect(inputs.filter((path) => path.startsWith('node_modules/ws/'))).toEqual([]);
      expect(code).not.toMatch(
        /require\(["'](libsql|@libsql\/[a-z0-9-]+-(gnu|musl|msvc))["']\)|from ?["']libsql["']|\.node["']\)/,
      );
    }
  });
});

describe('node infra/bundle-report.mjs', () => {
  it("reports each bundle's size and what takes it, from the metafile beside the package", () => {
    // Act
    const report = JSON.parse(
      execFileSync(
        process.execPath,
        ['infra/bundle-report.mjs', '--dir', outdir, '--runs', '1', '--json'],
        { cwd: ROOT, encoding: 'utf8' },
      ),
    ) as { name: string; bytes: number; largest: { part: string; bytes: number }[] | null }[];
    // Assess
    expect(report.map((r) => r.name)).toEqual([...FUNCTION_NAMES].sort());
    for (const bundle of report) {
      expect(bundle.largest, bundle.name).toHaveLength(3);
      const [first, second] = bundle.largest ?? [];
      expect(first?.bytes).toBeGreaterThanOrEqual(second?.bytes ?? 0);
      expect(first?.bytes).toBeLessThan(bundle.bytes);
    }
    expect(report[0]?.largest?.map((p) => p.part)).toContain('zod');
  });
});

describe('the bundles, with no database configured', () => {
  it('health answers from the packaged config (AEGIS_CONFIG), and 404/405 as JSON', async () => {
    // Act
    const { results } = await invokeBundle(outdir, 'health', [
      get('/health'),
      postJson('/health', { ping: true }),
      get('/no/such/path'),
    ]);
    // Assess
    const health = answerOf(results[0]);
    const wrongMethod = answerOf(results[1]);
    const unknown = answerOf(results[2]);
    expect(health.statusCode).toBe(200);
    expect(health.json).toMatchObject({
      status: 'ok',
      services_configured: 2,
      workflows_configured: 1,
    });
    expect(wrongMethod.statusCode).toBe(405);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json).toEqual({ error: 'not_found', message: 'no such path: /no/such/path' });
    expect(unknown.headers['content-type']).toMatch(/^application\/json/);
  });

  it('workflows lists definitions, 404s an unknown workflow and 503s a run with a clear message', async () => {
    // Act
    const { results } = await invokeBundle(outdir, 'workflows', [
      get('/api/workflows'),
      get('/api/workflows/smoke'),
      postJson('/api/workflows/smoke/run', { reason: 'a JSON body reaches the handler' }),
      postJson('/api/workflows/nope/run', {}),
      get('/api/workflows/smoke/history', 'limit=abc'),
      get('/api/nothing'),
    ]);
    // Assess
    const list = answerOf(results[0]);
    const one = answerOf(results[1]);
    const run = answerOf(results[2]);
    const unknownWorkflow = answerOf(results[3]);
    const badQuery = answerOf(results[4]);
    const unknownPath = answerOf(results[5]);
    expect(list.statusCode).toBe(200);
    expect((list.json as { key: string }[]).map((w) => w.key)).toEqual(['smoke']);
    expect(one.json).toMatchObject({ key: 'smoke', name: 'Smoke' });
    expect(run.statusCode).toBe(503);
    expect(run.json).toEqual({
      error: 'service_unavailable',
      message: expect.stringMatching(/AEGIS_DB_URL.*libsql:\/\/.*https:\/\//),
    });
    expect(unknownWorkflow.statusCode).toBe(404);
    expect((unknownWorkflow.json as { message: string }).message).toMatch(
      /unknown workflow "nope"/,
    );
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json).toEqual({
      error: 'bad_request',
      message: expect.stringContaining("'limit'"),
    });
    expect(unknownPath.statusCode).toBe(404);
    expect(unknownPath.json).toMatchObject({ error: 'not_found' });
  });

  it('a file: AEGIS_DB_URL is a 503 too: a bundle cannot open a file database', async () => {
    // Act
    const { results } = await invokeBundle(
      outdir,
      'events',
      [get('/api/events'), get('/api/events', 'event_type=bogus')],
      { env: { AEGIS_DB_URL: 'file:/tmp/aegis-lambda-history.db' } },
    );
    // Assess
    const events = answerOf(results[0]);
    const badFilter = answerOf(results[1]);
    expect(events.statusCode).toBe(503);
    expect((events.json as { message: string }).message).toMatch(/file database.*AEGIS_DB_URL/);
    expect(badFilter.statusCode).toBe(400);
    expect((badFilter.json as { message: string }).message).toMatch(
      /event_type.*workflow\.started/,
    );
  });

  it('services and webhooks answer what needs no database', async () => {
    // Act
    const services = await invokeBundle(outdir, 'services', [
      get('/api/portfolio'),
      get('/api/services/nope/health'),
    ]);
    const webhooks = await invokeBundle(outdir, 'webhooks', [
      get('/api/webhooks'),
      get('/api/webhooks/deliveries', 'limit=0'),
      get('/api/webhooks/deliveries'),
    ]);
    // Assess
    const portfolio = answerOf(services.results[0]);
    const unknownService = answerOf(services.results[1]);
    expect(portfolio.json).toMatchObject({ name: 'Aegis on Lambda', workflows: ['smoke'] });
    expect(unknownService.statusCode).toBe(404);
    const list = answerOf(webhooks.results[0]);
    const badLimit = answerOf(webhooks.results[1]);
    const deliveries = answerOf(webhooks.results[2]);
    expect(list.json).toEqual([{ url: 'http://127.0.0.1:9/hook', events: ['*'], signed: false }]);
    expect(badLimit.statusCode).toBe(400);
    expect((badLimit.json as { message: string }).message).toContain("'limit'");
    expect(deliveries.statusCode).toBe(503);
  });

  it('the webhook drain, invoked by the schedule, fails saying what is missing', async () => {
    // Act
    const { results } = await invokeBundle(outdir, 'webhooks', [scheduledEvent()]);
    // Assess
    expect(results[0]).toEqual({ ok: false, error: expect.stringMatching(/AEGIS_DB_URL/) });
  });
});

describe('the bundles and their configuration', () => {
  it('a missing AEGIS_CONFIG file is a 500 that names it', async () => {
    // Act
    const { results } = await invokeBundle(outdir, 'health', [get('/health')], {
      env: { AEGIS_CONFIG: '/var/task/missing.aegis.yaml' },
    });
    // Assess
    const answer = answerOf(results[0]);
    expect(answer.statusCode).toBe(500);
    expect(answer.json).toEqual({
      error: 'configuration_error',
      message: expect.stringContaining('/var/task/missing.aegis.yaml'),
    });
  });

  it('secrets reach the packaged config through the environment variables it interpolates', async () => {
    // Act
    const { results } = await invokeBundle(
      outdir,
      'workflows',
      [
        postJson('/api/workflows/smoke/run', {}),
        postJson('/api/workflows/smoke/run', {}, { 'x-api-key': 'wrong' }),
        postJson('/api/workflows/smoke/run', {}, { 'x-api-key': 'from-a-noecho-parameter' }),
      ],
      { env: { AEGIS_API_KEY: 'from-a-noecho-parameter' } },
    );
    // Assess
    expect(results.map((r) => answerOf(r).statusCode)).toEqual([401, 401, 503]);
  });
});

describe('the bundles against a libSQL server (Hrana over HTTP)', () => {
  const TOKEN = 'test-database-token';
  const SECRET = 'whsec_lambda_test';
  let server: HranaServer;
  let qaAgent: StubService;
  let bugTracker: StubService;
  let receiver: StubService;
  let env: Record<string, string>;
  let firstRun: Invocation;

  beforeAll(async () => {
    server = await startHranaServer({ authToken: TOKEN });
    qaAgent = await startStub(QA_AGENT_ROUTES);
    bugTracker = await startStub(BUG_TRACKER_ROUTES);
    receiver = await startStub({ 'POST /hook': { status: 204 } });
    env = {
      AEGIS_DB_URL: server.url,
      AEGIS_DB_AUTH_TOKEN: TOKEN,
      QAAGENT_URL: qaAgent.url,
      BUGALIZER_URL: bugTracker.url,
      WEBHOOK_URL: `${receiver.url}/hook`,
      WEBHOOK_SECRET: SECRET,
    };
    // A run through the Lambda handler: it is recorded and queues a webhook delivery per event.
    firstRun = await invokeBundle(
      outdir,
      'workflows',
      [
        postJson('/api/workflows/smoke/run', { note: 'a JSON body' }),
        get('/api/workflows/smoke/history'),
      ],
      { env },
    );
  });

  afterAll(async () => {
    await Promise.all([server?.close(), qaAgent?.close(), bugTracker?.close(), receiver?.close()]);
  });

  it('runs a workflow, records it, and a later cold start of another function reads it', async () => {
    // Assess (the run is the describe's beforeAll)
    const run = answerOf(firstRun.results[0]);
    const history = answerOf(firstRun.results[1]);
    expect(run.statusCode).toBe(200);
    expect(run.json).toMatchObject({ workflow_name: 'smoke', success: true });
    const runId = (run.json as { run_id: string }).run_id;
    expect(history.json).toEqual([
      expect.objectContaining({
        run_id: runId,
        status: 'completed',
        step_count: 3,
        trigger: 'lambda',
      }),
    ]);
    expect(bugTracker.calls('POST /api/v1/reports')).toHaveLength(1);
    expect(server.query('SELECT count(*) AS n FROM runs')[0]).toEqual({ n: 1 });
    // Act: another function, another process, the libsql:// scheme as Turso hands it out
    // (tls=0: this test server speaks plain HTTP)
    const events = await invokeBundle(outdir, 'events', [get('/api/events', 'limit=50')], {
      env: { ...env, AEGIS_DB_URL: `${server.url.replace('http://', 'libsql://')}?tls=0` },
    });
    // Assess
    const types = (answerOf(events.results[0]).json as { event_type: string; run_id: string }[])
      .filter((event) => event.run_id === runId)
      .map((event) => event.event_type);
    expect(types).toContain('workflow.started');
    expect(types).toContain('workflow.completed');
  });

  it('the scheduled drain sends the queued deliveries, signed, and the API shows them delivered', async () => {
    // Prepare: the run in beforeAll queued one delivery per event
    const queued = Number(
      server.query("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'")[0]?.n,
    );
    expect(queued).toBeGreaterThan(0);
    // Act
    const drain = await invokeBundle(outdir, 'webhooks', [scheduledEvent()], {
      env,
      remainingMs: 30_000,
    });
    const after = await invokeBundle(
      outdir,
      'webhooks',
      [get('/api/webhooks/deliveries', 'status=delivered&limit=100')],
      { env },
    );
    // Assess
    expect(drain.results[0]).toEqual({
      ok: true,
      value: {
        webhooks: { attempted: queued, delivered: queued, retrying: 0, failed: 0, pending: 0 },
        runs: { executed: 0, failed: 0 },
        schedules: { queued: 0 },
      },
    });
    const hooks = receiver.calls('POST /hook');
    expect(hooks).toHaveLength(queued);
    const verifier = new Webhook(new TextEncoder().encode(SECRET), { format: 'raw' });
    for (const hook of hooks) {
      expect(() =>
        verifier.verify(hook.body, hook.headers as Record<string, string>),
      ).not.toThrow();
      expect(hook.headers['x-aegis-signature']).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(answerOf(after.results[0]).json).toHaveLength(queued);
  });

  it('an asynchronous run queued through the workflows function is executed by the scheduled drain', async () => {
    // Act: queue it (202 at once), then one schedule tick, then read it through the runs function
    const started = await invokeBundle(
      outdir,
      'workflows',
      [
        apiGatewayEvent({
          method: 'POST',
          path: '/api/workflows/smoke/run',
          headers: { prefer: 'respond-async' },
        }),
      ],
      { env },
    );
    const accepted = answerOf(started.results[0]);
    expect(accepted.statusCode).toBe(202);
    const runId = (accepted.json as { run_id: string }).run_id;
    expect(accepted.headers.location).toBe(`/api/runs/${runId}`);
    expect(server.query(`SELECT status FROM runs WHERE run_id = '${runId}'`)).toEqual([
      { status: 'queued' },
    ]);
    const drain = await invokeBundle(outdir, 'webhooks', [scheduledEvent()], {
      env,
      remainingMs: 60_000,
    });
    const read = await invokeBundle(outdir, 'runs', [get(`/api/runs/${runId}`)], { env });
    // Assess
    expect(drain.results[0]).toMatchObject({
      ok: true,
      value: { runs: { executed: 1, failed: 0 } },
    });
    expect(answerOf(read.results[0]).json).toMatchObject({
      run_id: runId,
      status: 'completed',
      success: true,
      trigger: 'lambda',
      step_count: 3,
    });
  });

  it('a signed GitHub push to the triggers function queues one run, even redelivered, and the drain executes it', async () => {
    // Prepare
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const push = apiGatewayEvent({
      method: 'POST',
      path: '/api/triggers/gh',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'lambda-delivery-1',
        'x-hub-signature-256': await sign('lambda-trigger-secret', body),
      },
      body,
    });
    // Act: the delivery, then GitHub's redelivery to a fresh cold start, then a drain
    const first = await invokeBundle(outdir, 'triggers', [push], { env });
    const again = await invokeBundle(outdir, 'triggers', [push], { env });
    const drain = await invokeBundle(outdir, 'webhooks', [scheduledEvent()], {
      env,
      remainingMs: 60_000,
    });
    // Assess
    const accepted = answerOf(first.results[0]);
    expect(accepted.statusCode).toBe(202);
    const runId = (accepted.json as { run_id: string }).run_id;
    expect(answerOf(again.results[0])).toMatchObject({ statusCode: 200, json: { run_id: runId } });
    expect(drain.results[0]).toMatchObject({ ok: true, value: { runs: { executed: 1 } } });
    expect(server.query(`SELECT status, trigger FROM runs WHERE trigger = 'trigger:gh'`)).toEqual([
      { status: 'completed', trigger: 'trigger:gh' },
    ]);
  });

  it('a wrong AEGIS_DB_AUTH_TOKEN is a 503 that does not repeat the token', async () => {
    // Act
    const { results } = await invokeBundle(outdir, 'runs', [get('/api/history')], {
      env: { ...env, AEGIS_DB_AUTH_TOKEN: 'not-the-token' },
    });
    // Assess
    const answer = answerOf(results[0]);
    expect(answer.statusCode).toBe(503);
    expect((answer.json as { message: string }).message).toMatch(/history database/);
    expect(JSON.stringify(answer.json)).not.toContain('not-the-token');
  });
});
