import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServiceListing } from '#shared/services/listing.ts';
import { runAegis, runAegisInProcess } from '#test/support/cli-process.ts';
import { type StubRoute, startStub, stubForTest } from '#test/support/stub-service.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';

/** Each stub lives for the test that starts it. */
const stub = stubForTest;

const OK: Record<string, StubRoute> = { 'GET /health': { body: { status: 'ok' } } };

/** A project whose `.aegis.yaml` lists `services` ({key: url}); returns its directory. */
function project(services: Record<string, string>): string {
  const yaml = `services:\n${Object.entries(services)
    .map(
      ([key, url]) =>
        `  ${key}:\n    name: ${key.toUpperCase()} service\n    url: ${url}\n    description: the ${key}\n    features: [Checks]\n`,
    )
    .join('')}`;
  return dirname(writeConfig(yaml));
}

/** Runs the CLI in-process (it counts toward coverage), collecting what it writes. */
const cli = (args: string[], cwd: string, env: Record<string, string | undefined> = {}) =>
  runAegisInProcess(args, { cwd, env });

describe('aegis status (a real process)', () => {
  it('prints a table of name, URL, status and latency and exits 0 when all are healthy', async () => {
    const qa = await stub(OK);
    const bugs = await stub(OK);
    const dir = project({ qaagent: qa.url, bugalizer: bugs.url });
    const { code, stdout, stderr } = await runAegis(['status'], { cwd: dir });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+NAME\s+URL\s+STATUS\s+LATENCY\s+ERROR$/);
    expect(lines[1]).toMatch(
      new RegExp(`^qaagent\\s+QAAGENT service\\s+${qa.url}\\s+healthy\\s+\\d+ ms$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^bugalizer\\s+BUGALIZER service\\s+${bugs.url}\\s+healthy\\s+\\d+ ms$`),
    );
    expect(lines.at(-1)).toBe('All 2 services are healthy.');
  });

  it('--json prints the /api/services array and exits 1 when one is not healthy', async () => {
    const qa = await stub(OK);
    const sick = await stub({ 'GET /health': { status: 503 } });
    const dir = project({ qaagent: qa.url, sick: sick.url });
    const { code, stdout } = await runAegis(['status', '--json'], { cwd: dir });
    expect(code).toBe(1);
    const listing = JSON.parse(stdout) as ServiceListing[];
    expect(listing).toEqual([
      {
        key: 'qaagent',
        name: 'QAAGENT service',
        description: 'the qaagent',
        url: qa.url,
        features: ['Checks'],
        status: 'healthy',
        latency_ms: expect.any(Number),
        error: null,
      },
      {
        key: 'sick',
        name: 'SICK service',
        description: 'the sick',
        url: sick.url,
        features: ['Checks'],
        status: 'unhealthy',
        latency_ms: expect.any(Number),
        error: 'HTTP 503',
      },
    ]);
  });

  it('rejects a bad --timeout with a clear one-line error', async () => {
    const dir = project({ qaagent: 'http://127.0.0.1:9' });
    const { code, stdout, stderr } = await runAegis(['status', '--timeout', 'soon'], { cwd: dir });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('aegis: --timeout: expected a number of seconds > 0, got "soon"\n');
  });
});

describe('aegis status (in-process)', () => {
  it('exits 1 and shows every label and error when services are not healthy', async () => {
    const up = await stub(OK);
    const sick = await stub({ 'GET /health': { status: 500 } });
    const slow = await stub({ 'GET /health': { delayMs: 5000 } });
    const gone = await startStub();
    await gone.close();
    const dir = project({ up: up.url, sick: sick.url, slow: slow.url, gone: gone.url });
    const started = performance.now();
    const { code, stdout } = await cli(['status', '--timeout', '0.3'], dir);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(code).toBe(1);
    const rows = stdout.split('\n');
    expect(rows.find((r) => r.startsWith('up '))).toMatch(/\shealthy\s+\d+ ms$/);
    expect(rows.find((r) => r.startsWith('sick '))).toMatch(/\sunhealthy\s+\d+ ms\s+HTTP 500$/);
    expect(rows.find((r) => r.startsWith('slow '))).toMatch(
      /\stimeout\s+\d+ ms\s+no answer within 0\.3s$/,
    );
    expect(rows.find((r) => r.startsWith('gone '))).toMatch(
      /\sunreachable\s+\d+ ms\s+connection refused$/,
    );
    expect(stdout).toContain('\n3 of 4 are not healthy.\n');
  });

  it('counts the services that are not healthy', async () => {
    const up = await stub(OK);
    const sick = await stub({ 'GET /health': { status: 500 } });
    const one = await cli(['status'], project({ sick: sick.url }));
    expect(one).toMatchObject({ code: 1 });
    expect(one.stdout).toContain('\n1 of 1 is not healthy.\n');
    const two = await cli(['status'], project({ up: up.url, sick: sick.url }));
    expect(two.stdout).toContain('\n1 of 2 is not healthy.\n');
  });

  it('--timeout changes how long it waits', async () => {
    const slow = await stub({ 'GET /health': { delayMs: 700, body: {} } });
    const dir = project({ slow: slow.url });
    const short = await cli(['status', '--json', '--timeout', '0.2'], dir);
    expect(short.code).toBe(1);
    expect((JSON.parse(short.stdout) as ServiceListing[])[0]?.status).toBe('timeout');
    const long = await cli(['status', '--json', '--timeout', '3'], dir);
    expect(long.code).toBe(0);
    expect((JSON.parse(long.stdout) as ServiceListing[])[0]?.status).toBe('healthy');
  });

  it('waits 5 s by default', async () => {
    const slow = await stub({ 'GET /health': { delayMs: 1500, body: {} } });
    const dir = project({ slow: slow.url });
    const { code } = await cli(['status'], dir);
    expect(code).toBe(0);
  });

  it.each(['0', '-1', 'abc', '', 'Infinity'])('rejects --timeout %j', async (value) => {
    const dir = project({ qaagent: 'http://127.0.0.1:9' });
    const { code, stderr } = await cli(['status', '--timeout', value], dir);
    expect(code).toBe(1);
    expect(stderr).toBe(`aegis: --timeout: expected a number of seconds > 0, got "${value}"\n`);
  });

  it('accepts a --timeout longer than a timer can hold', async () => {
    const qa = await stub(OK);
    const dir = project({ qaagent: qa.url });
    const { code, stdout } = await cli(['status', '--timeout', '10000000'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('The service is healthy.');
  });

  it('says so when no services are configured, and --json prints []', async () => {
    const dir = dirname(writeConfig('services: {}\n'));
    expect(await cli(['status'], dir)).toMatchObject({
      code: 0,
      stdout: 'No services are configured.\n',
    });
    expect(await cli(['status', '--json'], dir)).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('sends X-API-Key when the service names a set variable', async () => {
    const qa = await stub(OK);
    const dir = dirname(
      writeConfig(`services:\n  qa:\n    name: QA\n    url: ${qa.url}\n    api_key_env: QA_KEY\n`),
    );
    await cli(['status'], dir, { QA_KEY: 'secret-key' });
    expect(qa.calls('GET /health')[0]?.headers['x-api-key']).toBe('secret-key');
  });

  it('exits 1 and says where it looked when there is no config', async () => {
    const { code, stderr } = await cli(['status'], tempDir());
    expect(code).toBe(1);
    expect(stderr).toMatch(/^aegis: .*\.aegis\.yaml/);
  });
});
