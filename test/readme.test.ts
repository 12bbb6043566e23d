// The README's contract and CI sections, checked against what Aegis does: every
// request it shows is the one Aegis sends, every answer it shows is accepted, every
// error it lists is the one a step reports, and its CI job gates as it says.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startForTest } from '#local-host/demo-services/test-client.ts';
import { AEGIS_BIN, runAegis, runAegisInProcess, runCommand } from '#test/support/cli-process.ts';
import {
  type RecordedRequest,
  type StubAnswer,
  type StubService,
  startStub,
  stubForTest,
} from '#test/support/stub-service.ts';
import { tempDir } from '#test/support/temp.ts';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

/** The text of one `## title` section, up to the next `## `. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README.md has no section "## ${title}"`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** The contents of the fenced blocks of one language, in order. */
function fencedBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (match) => match[1] ?? '',
  );
}

interface HttpMessage {
  /** `GET /api/routes HTTP/1.1` or `HTTP/1.1 200 OK`. */
  startLine: string;
  headers: Record<string, string>;
  body: string;
}

function parseHttp(block: string): HttpMessage {
  const [head = '', body = ''] = block.split(/\n\n/, 2);
  const [startLine = '', ...headerLines] = head.split('\n');
  const headers = Object.fromEntries(
    headerLines
      .filter((line) => line !== '')
      .map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      }),
  );
  return { startLine, headers, body: body.replace(/\n$/, '') };
}

interface Exchange {
  method: string;
  path: string;
  request: HttpMessage;
  status: number;
  answer: unknown;
  /** The variable whose value the request's X-API-Key shows: which service it goes to. */
  keyVariable: string;
}

/** The contract section's `http` blocks: each request followed by its answer. */
function contractExchanges(): Exchange[] {
  const blocks = fencedBlocks(
    section('The HTTP contract a QA agent and a bug tracker must meet'),
    'http',
  ).map(parseHttp);
  const exchanges: Exchange[] = [];
  for (let i = 0; i < blocks.length; i += 2) {
    const request = blocks[i] as HttpMessage;
    const response = blocks[i + 1] as HttpMessage;
    const [method = '', path = ''] = request.startLine.split(' ');
    const keyVariable = /\$([A-Z_]+)/.exec(request.headers['x-api-key'] ?? '')?.[1] ?? '';
    exchanges.push({
      method,
      path,
      request,
      status: Number(response.startLine.split(' ')[1]),
      answer: JSON.parse(response.body),
      keyVariable,
    });
  }
  return exchanges;
}

const KEYS = { QAAGENT_API_KEY: 'readme-qa-key', BUGALIZER_API_KEY: 'readme-bug-key' };

/** A stub answering each exchange's request with the README's answer (two calls share a path: the body tells them apart). */
async function stubFor(exchanges: readonly Exchange[]): Promise<StubService> {
  const stub = await stubForTest({ 'GET /health': { status: 200, body: {} } });
  const routes = new Set(exchanges.map((e) => `${e.method} ${e.path}`));
  for (const route of routes) {
    const candidates = exchanges.filter((e) => `${e.method} ${e.path}` === route);
    stub.route(route, (request) => {
      const match = candidates.find(
        (e) => candidates.length === 1 || e.request.body === request.body,
      );
      return match
        ? { status: match.status, body: match.answer }
        : { status: 400, body: { error: `no README exchange for this body: ${request.body}` } };
    });
  }
  return stub;
}

function pipelineConfig(qa: StubService, bugs: StubService, extra = ''): string {
  return `services:
  qaagent: { name: QA Agent, url: "${qa.url}", api_key_env: QAAGENT_API_KEY }
  bugalizer: { name: Bug tracker, url: "${bugs.url}", api_key_env: BUGALIZER_API_KEY }
workflows:
  full_pipeline:
    name: Full
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
      - { type: verify, service: qaagent, condition: has_failures }
      - { type: report, service: qaagent }
${extra}`;
}

/** The README's request, as the stub received it: the same method, path, body and headers. */
function expectSentAsShown(exchange: Exchange, received: RecordedRequest | undefined): void {
  const where = `${exchange.method} ${exchange.path}`;
  expect(received, `Aegis sent ${where}`).toBeDefined();
  if (!received) return;
  expect(received.body, `the body of ${where}`).toBe(exchange.request.body);
  expect(Object.keys(received.headers).sort(), `the headers of ${where}`).toEqual(
    Object.keys(exchange.request.headers).sort(),
  );
  for (const [name, shown] of Object.entries(exchange.request.headers)) {
    if (name === 'host') continue; // the README's host is an example
    if (name === 'traceparent') {
      // The README shows its shape; the ids are the run's trace and a new span.
      expect(received.headers[name], `${name} of ${where}`).toMatch(
        /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/,
      );
      continue;
    }
    const expected = name === 'x-api-key' ? KEYS[exchange.keyVariable as keyof typeof KEYS] : shown;
    expect(received.headers[name], `${name} of ${where}`).toBe(expected);
  }
}

interface StepOutcome {
  step_type: string;
  success: boolean;
  skipped: boolean;
  error: string | null;
  data: Record<string, unknown>;
}

describe('README: the HTTP contract', () => {
  const exchanges = contractExchanges();

  it('shows every call Aegis makes: the health check and the four HTTP steps', () => {
    expect(exchanges.map((e) => `${e.method} ${e.path} ${e.request.body}`)).toEqual([
      'GET /health ',
      'GET /api/routes ',
      'POST /api/runs {}',
      expect.stringMatching(/^POST \/api\/v1\/reports \{"failures":/),
      'POST /api/runs {"verify_only":true}',
    ]);
  });

  it('is what Aegis sends, and Aegis accepts every answer it shows', async () => {
    // Prepare
    const forService = (variable: string) => exchanges.filter((e) => e.keyVariable === variable);
    const qa = await stubFor(forService('QAAGENT_API_KEY'));
    const bugs = await stubFor(forService('BUGALIZER_API_KEY'));
    const dir = tempDir();
    writeFileSync(join(dir, '.aegis.yaml'), pipelineConfig(qa, bugs));

    // Act
    const status = await runAegisInProcess(['status', '--json'], { cwd: dir, env: KEYS });
    const run = await runAegisInProcess(['run', 'full_pipeline', '--json'], {
      cwd: dir,
      env: KEYS,
    });

    // Assess: the requests, header for header and byte for byte.
    for (const exchange of exchanges) {
      const stub = exchange.keyVariable === 'BUGALIZER_API_KEY' ? bugs : qa;
      const received = stub
        .calls(`${exchange.method} ${exchange.path}`)
        .find((r) => exchange.method === 'GET' || r.body === exchange.request.body);
      expectSentAsShown(exchange, received);
    }
    // …and the answers, read into each step's data as the section says.
    expect(JSON.parse(status.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'qaagent', status: 'healthy' })]),
    );
    expect(run.code).toBe(0);
    const steps = (JSON.parse(run.stdout) as { steps: StepOutcome[] }).steps;
    expect(steps.map((s) => [s.step_type, s.success, s.skipped, s.error])).toEqual([
      ['discover', true, false, null],
      ['test', true, false, null],
      ['submit_bugs', true, false, null],
      ['verify', true, false, null],
      ['report', true, false, null],
    ]);
    const [, routes, tests, reports, verify] = exchanges as [
      Exchange,
      Exchange,
      Exchange,
      Exchange,
      Exchange,
    ];
    const listed = (routes.answer as { routes: unknown[] }).routes;
    expect(steps[0]?.data).toEqual({ routes: listed, route_count: listed.length });
    const { results: _, ...counts } = tests.answer as Record<string, unknown>;
    expect(steps[1]?.data).toMatchObject(counts);
    expect(JSON.parse(reports.request.body)).toEqual({ failures: counts.failures });
    const failures = counts.failures as { test: string; error: string }[];
    expect(steps[2]?.data).toEqual({
      submitted: failures.length,
      response: reports.answer,
      submitted_tests: failures.map(({ test, error }) => ({ test, error })),
    });
    expect(steps[3]?.data).toMatchObject({
      ...(verify.answer as Record<string, unknown>),
      verify_only: true,
    });
  });

  it('counts a 204 without a body as healthy, as it says', async () => {
    const qa = await stubForTest({ 'GET /health': { status: 204, raw: '' } });
    const dir = tempDir();
    writeFileSync(
      join(dir, '.aegis.yaml'),
      `services:\n  qaagent: { name: QA, url: "${qa.url}" }\n`,
    );

    const status = await runAegisInProcess(['status', '--json'], { cwd: dir });

    expect(status.code).toBe(0);
  });
});

interface FailureSetup {
  /** The service's URL; a stub's when `answer` is given. */
  url?: string;
  answer?: StubAnswer;
  timeout?: number;
  /** The cause this variant gives, when not the README's own example (`HTTP 302` for `HTTP 503`). */
  cause?: string;
}

/** How to make a service fail each way the README's table lists: its example first, then the other cases its row names. */
const FAILURES: Record<string, (() => Promise<FailureSetup>)[]> = {
  'HTTP 503': [
    async () => ({ answer: { status: 503, body: { error: 'unavailable' } } }),
    async () => ({ answer: { status: 404, body: {} }, cause: 'HTTP 404' }),
    async () => ({
      answer: { status: 302, headers: { location: '/elsewhere' }, body: {} },
      cause: 'HTTP 302',
    }),
  ],
  'response is not JSON': [
    async () => ({
      answer: { raw: '<html>busy</html>', headers: { 'content-type': 'text/html' } },
    }),
    async () => ({ answer: { raw: '' } }),
    async () => ({ answer: { status: 204, raw: '' } }),
  ],
  'response has no "routes" list': [async () => ({ answer: { body: { paths: [] } } })],
  'response is not a JSON object': [
    async () => ({ answer: { body: [1, 2, 3] } }),
    async () => ({ answer: { body: 3 } }),
  ],
  '"total" is not a number': [
    async () => ({ answer: { body: { total: null } } }),
    async () => ({ answer: { body: { passed: '2' } }, cause: '"passed" is not a number' }),
  ],
  '"failures" is not a list': [async () => ({ answer: { body: { failures: { test: 'x' } } } })],
  'Step timed out after 30s': [
    async () => ({ answer: { delayMs: 2_000, body: {} }, timeout: 0.2 }),
  ],
  'connection refused': [
    async () => {
      const closed = await startStub();
      await closed.close();
      return { url: closed.url };
    },
  ],
  'host not found': [async () => ({ url: 'http://aegis-readme-test.invalid:8080' })],
  'connection reset': [async () => ({ answer: { truncate: true, body: { total: 1 } } })],
};

/** The table's rows: what the service does, and the step's error. */
function failureRows(): { does: string; error: string }[] {
  const text = section('The HTTP contract a QA agent and a bug tracker must meet');
  const table = text.slice(text.indexOf("| the service | the step's error |"));
  return table
    .split('\n')
    .slice(2)
    .filter((line) => line.startsWith('| '))
    .map((line) => {
      const [does = '', error = ''] = line.split(' | ').map((cell) => cell.replace(/^\| /, ''));
      return { does, error: error.replace(/ \|$/, '').replaceAll('`', '') };
    });
}

describe('README: what fails a step', () => {
  const rows = failureRows();

  it('lists every cause the test below can produce, and only those', () => {
    const causes = rows.map((row) => row.error.slice(row.error.indexOf(': ') + 2));
    expect(causes.sort()).toEqual(Object.keys(FAILURES).sort());
  });

  it.each(rows)('$does: $error', async ({ error }) => {
    const [, service = '', method, path, cause = ''] =
      /^(\w+) (GET|POST) (\S+): (.+)$/.exec(error) ?? [];
    const step = method === 'GET' && path === '/api/routes' ? 'discover' : 'test';
    const variants = FAILURES[cause];
    if (!variants) throw new Error(`no way to produce "${cause}"`);
    for (const variant of variants) {
      // Prepare
      const failure = await variant();
      const url = failure.answer
        ? (await stubForTest({ [`${method} ${path}`]: failure.answer })).url
        : (failure.url ?? '');
      const timeout = failure.timeout ?? 30;
      const dir = tempDir();
      writeFileSync(
        join(dir, '.aegis.yaml'),
        `services:\n  ${service}: { name: QA, url: "${url}" }
workflows:\n  wf: { name: W, steps: [{ type: ${step}, service: ${service}, timeout: ${timeout} }] }\n`,
      );

      // Act
      const run = await runAegisInProcess(['run', 'wf', '--json'], { cwd: dir });

      // Assess
      expect(run.code).toBe(1);
      const [outcome] = (JSON.parse(run.stdout) as { steps: StepOutcome[] }).steps;
      const expected = error
        .replace(cause, failure.cause ?? cause)
        .replace('after 30s', `after ${timeout}s`);
      expect(outcome?.error).toBe(expected);
    }
  });
});

describe('README: the CI job', () => {
  const [workflowText = ''] = fencedBlocks(section('Run it from CI'), 'yaml');
  const workflow = parse(workflowText) as {
    jobs: Record<
      string,
      {
        env: Record<string, string>;
        steps: { name?: string; run?: string; if?: string; uses?: string; with?: unknown }[];
      }
    >;
  };
  const [job] = Object.values(workflow.jobs);
  if (!job) throw new Error('the CI job has no job');

  /** Runs one `run:` of the job with bash -e, as GitHub does, `npx aegis` being the built bin. */
  function runStep(name: string, cwd: string, env: Record<string, string>) {
    const step = job?.steps.find((s) => s.name === name);
    if (!step?.run) throw new Error(`the CI job has no step "${name}" with a run`);
    const script = step.run.replaceAll('npx aegis', `"${process.execPath}" "${AEGIS_BIN}"`);
    return runCommand('bash', ['-e', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      timeoutMs: 30_000,
    });
  }

  /** The job's env, its secrets empty and its service URLs pointed at the given ones. */
  function jobEnv(urls: { QAAGENT_URL: string; BUGALIZER_URL: string }): Record<string, string> {
    const env = Object.fromEntries(
      Object.entries(job?.env ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{\{.*\}\}/, '')]),
    );
    return { ...env, ...urls };
  }

  it('fails the job when the tests reported failures, and keeps the run as JSON', async () => {
    // Prepare: the starter config, against the demo services (whose tests find 2 failures).
    const demo = await startForTest();
    const dir = tempDir();
    await runAegis(['init'], { cwd: dir });
    const env = jobEnv({ QAAGENT_URL: demo.qaAgentUrl, BUGALIZER_URL: demo.bugTrackerUrl });
    const summary = join(dir, 'summary.md');

    // Act
    const checks = await runStep('Check the configuration and the services', dir, env);
    const pipeline = await runStep('Run the pipeline', dir, env);
    const report = await runStep('Summary', dir, { ...env, GITHUB_STEP_SUMMARY: summary });

    // Assess
    expect(checks.code, checks.stdout + checks.stderr).toBe(0);
    expect(pipeline.code).toBe(1);
    const result = JSON.parse(readFileSync(join(dir, 'aegis-run.json'), 'utf8')) as {
      success: boolean;
    };
    expect(result.success).toBe(true); // the run did its job; the reported failures fail the gate
    expect(report.code).toBe(0);
    expect(readFileSync(summary, 'utf8')).toContain('- test: ok\n');
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'));
    expect(upload).toMatchObject({ if: 'always()', with: { path: 'aegis-run.json' } });
  });

  it('passes the job when every test passed', async () => {
    // Prepare
    const qa = await stubForTest({
      'GET /health': { body: {} },
      'GET /api/routes': { body: { routes: [] } },
      'POST /api/runs': { body: { total: 2, passed: 2, failed: 0, failures: [] } },
    });
    const dir = tempDir();
    await runAegis(['init'], { cwd: dir });
    const env = jobEnv({ QAAGENT_URL: qa.url, BUGALIZER_URL: qa.url });

    // Act
    const pipeline = await runStep('Run the pipeline', dir, env);

    // Assess
    expect(pipeline.code, pipeline.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'aegis-run.json'), 'utf8'))).toMatchObject({
      success: true,
    });
  });
});
