import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '#functions/index.ts';
import { parseConfig } from '#shared/config/load.ts';
import { apiGatewayEvent } from '#shared/http-api/apigw-event.ts';
import { openStores } from '#shared/stores.ts';
import { runAegis, spawnAegis } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';
import { serveCommand } from './serve.ts';

let qa: StubService;
beforeAll(async () => {
  qa = await startStub(QA_AGENT_ROUTES);
});
afterAll(() => qa.close());

const CONFIG = () => `
services:
  qaagent: { name: QA Agent, url: "${qa.url}" }
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
`;

/** Starts `aegis serve` as a process on a free port and waits until it listens. */
async function serve(args: string[], cwd: string, env: Record<string, string> = {}) {
  const running = spawnAegis(['serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd,
    env,
    timeoutMs: 60_000,
  });
  const url = await eventually(
    () => /"url":"(http:\/\/[^"]+)"/.exec(running.stdout())?.[1],
    10_000,
    `aegis serve to listen (stderr: ${running.stderr()})`,
  );
  return { ...running, url };
}

describe('aegis serve, healthcheck and invoke as processes', () => {
  it('serves, passes its health check, and exits 0 after SIGTERM with JSON logs on stdout', async () => {
    const dir = tempDir();
    writeConfig(CONFIG(), dir);
    const host = await serve([], dir);
    const health = await runAegis(['healthcheck', '--url', `${host.url}/health`]);
    expect(health.code).toBe(0);
    const run = (await (
      await fetch(`${host.url}/api/workflows/smoke/run`, { method: 'POST' })
    ).json()) as { success: boolean };
    expect(run.success).toBe(true);

    host.child.kill('SIGTERM');
    const code = await host.exited;
    expect(code).toBe(0);
    const lines = host.stdout().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l) as { message: string }).at(-1)?.message).toBe(
      'Aegis stopped',
    );
  });

  it('starts on built-in defaults with a warning when no config is found, and stops on SIGINT', async () => {
    const host = await serve([], tempDir());
    const health = (await (await fetch(`${host.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', services_configured: 0, workflows_configured: 0 });
    expect(host.stderr()).toMatch(/no \.aegis\.yaml found .*built-in defaults/);
    host.child.kill('SIGINT');
    expect(await host.exited).toBe(0);
  });

  it('refuses to start, naming the path, when the history cannot be written', async () => {
    const dir = tempDir();
    writeConfig(CONFIG(), dir);
    const result = await runAegis(['serve', '--port', '0'], {
      cwd: dir,
      env: { AEGIS_DB_PATH: '/dev/null/aegis.db' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^aegis: cannot open the history database at \/dev\/null\/aegis\.db: /,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says so when the port is taken or not a port', async () => {
    const busy = await runAegis(['serve', '--host', '127.0.0.1', '--port', String(qa.port)], {
      cwd: tempDir(),
    });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`port ${qa.port} on 127.0.0.1 is already in use`);
    const bad = await runAegis(['serve', '--port', 'eighty']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--port: expected a port number from 0 to 65535, got "eighty"');
  });

  it('healthcheck exits 1 when nothing answers or the answer is not 200', async () => {
    expect((await runAegis(['healthcheck', '--url', 'http://127.0.0.1:9/health'])).code).toBe(1);
    const notOk = await runAegis(['healthcheck', '--url', `${qa.url}/api/missing`]);
    expect(notOk.code).toBe(1);
    expect(notOk.stderr).toContain('answered 404');
  });

  it('invoke calls a function’s handler with a sample event and prints status, headers and parsed body', async () => {
    const dir = tempDir();
    writeConfig(CONFIG(), dir);
    const result = await runAegis(['invoke', 'workflows'], { cwd: dir });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as {
      statusCode: number;
      headers: Record<string, string>;
      body: { key: string }[];
    };
    expect(printed.statusCode).toBe(200);
    expect(printed.headers['content-type']).toMatch(/application\/json/);
    expect(printed.body.map((w) => w.key)).toEqual(['smoke']);
  });

  it('invoke takes an event file: a POST that runs a workflow lands in the same history as the API and aegis run', async () => {
    // Prepare
    const dir = tempDir();
    const configPath = writeConfig(CONFIG(), dir);
    const eventFile = join(dir, 'run-event.json');
    writeFileSync(
      eventFile,
      JSON.stringify(
        apiGatewayEvent({
          method: 'POST',
          path: '/api/workflows/smoke/run',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
      ),
    );
    // Act: one run through a handler, one by `aegis run`, one through the host's API
    const invoked = await runAegis(['invoke', 'workflows', '--event', eventFile], { cwd: dir });
    const cli = await runAegis(['run', 'smoke', '--json'], { cwd: dir });
    const host = await serve([], dir);
    const api = (await (
      await fetch(`${host.url}/api/workflows/smoke/run`, { method: 'POST' })
    ).json()) as { run_id: string };
    host.child.kill('SIGTERM');
    await host.exited;
    // Assess
    const viaHandler = (JSON.parse(invoked.stdout) as { body: { run_id: string } }).body.run_id;
    const viaCli = (JSON.parse(cli.stdout) as { run_id: string }).run_id;
    const { config } = parseConfig(CONFIG(), configPath, {}, dir);
    const stores = await openStores(config, {});
    try {
      const history = await stores.history.listRuns({ limit: 10 });
      expect(history.map((r) => r.run_id)).toEqual([api.run_id, viaCli, viaHandler]);
      const events = await stores.events.list({ limit: 100, eventType: 'workflow.completed' });
      expect(new Set(events.map((e) => e.run_id))).toEqual(
        new Set([api.run_id, viaCli, viaHandler]),
      );
    } finally {
      stores.db.close();
    }
  });

  it('invoke refuses an unknown function and an event that is not an API Gateway event', async () => {
    const unknown = await runAegis(['invoke', 'billing'], { cwd: tempDir() });
    expect(unknown.code).toBe(1);
    // Every function of the registry, in its order.
    expect(unknown.stderr).toContain(
      `unknown function "billing" (known: ${FUNCTION_NAMES.join(', ')})`,
    );
    expect(FUNCTION_NAMES).toEqual(expect.arrayContaining(['health', 'workflows', 'insight']));
    const dir = tempDir();
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify({ hello: 'world' }));
    const wrong = await runAegis(['invoke', 'health', '--event', eventFile], { cwd: dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      'neither an API Gateway HTTP API (payload 2.0) event nor an EventBridge schedule event',
    );
  });
});

describe('aegis serve binding (SPEC §15)', () => {
  /** The `ss -ltn` lines that listen on `port`; null where ss is not installed. */
  function listeners(port: number): string[] | null {
    const ss = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' });
    if (ss.error || ss.status !== 0) return null;
    return ss.stdout.split('\n').filter((line) => line.includes(`:${port} `));
  }

  it('listens on 127.0.0.1 when --host is not given, with no warning about auth', async () => {
    // Prepare
    const dir = tempDir();
    writeConfig(CONFIG(), dir);

    // Act
    const host = spawnAegis(['serve', '--port', '0'], { cwd: dir, timeoutMs: 60_000 });
    const url = await eventually(
      () => /"url":"(http:\/\/[^"]+)"/.exec(host.stdout())?.[1],
      10_000,
      `aegis serve to listen (stderr: ${host.stderr()})`,
    );
    const port = Number(new URL(url).port);
    const bound = listeners(port);
    host.child.kill('SIGTERM');
    await host.exited;

    // Assess
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(host.stdout()).toContain(`Aegis listening on http://127.0.0.1:${port}`);
    expect(host.stdout()).not.toContain('auth is off');
    if (bound !== null) {
      expect(bound).toHaveLength(1);
      expect(bound[0]).toMatch(new RegExp(`\\s127\\.0\\.0\\.1:${port}\\s`));
    }
  });

  it('says so in its help', async () => {
    // Act
    const help = await runAegis(['serve', '--help']);

    // Assess
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--host <address> address to listen on; 0.0.0.0 for every interface (set auth.keys first) (default: "127.0.0.1")',
    );
    expect(help.stdout).toContain('auth.protect_reads');
  });

  describe.each([
    { auth: '', warns: true },
    {
      auth: 'auth: { protect_reads: false, keys: [{ name: ci, key: k-1, scopes: [run] }] }',
      warns: false,
    },
    { auth: 'auth: { api_key: k-0 }', warns: false },
  ])('on every interface with $auth', ({ auth, warns }) => {
    it(
      warns ? 'warns that anyone can read and run, naming what to set' : 'does not warn',
      async () => {
        // Prepare
        const dir = tempDir();
        writeConfig(`${auth}\n${CONFIG()}`, dir);
        const stdout = new PassThrough();
        let printed = '';
        stdout.on('data', (chunk: Buffer) => {
          printed += chunk.toString('utf8');
        });
        const signals = new EventEmitter();

        // Act
        const served = serveCommand(
          { stdout, stderr: new PassThrough(), env: {}, cwd: dir },
          { host: '0.0.0.0', port: '0' },
          signals,
        );
        await eventually(() => (printed.includes('Aegis listening') ? true : undefined), 10_000);
        signals.emit('SIGTERM');
        const code = await served;

        // Assess
        expect(code).toBe(0);
        const warning = printed
          .split('\n')
          .filter((line) => line.includes('auth is off'))
          .map((line) => JSON.parse(line) as { level: string; message: string });
        if (!warns) expect(warning).toEqual([]);
        else {
          expect(warning).toHaveLength(1);
          expect(warning[0]?.level).toBe('WARN');
          expect(warning[0]?.message).toMatch(
            /listens on 0\.0\.0\.0.*auth\.keys.*auth\.protect_reads/,
          );
        }
      },
    );
  });
});
