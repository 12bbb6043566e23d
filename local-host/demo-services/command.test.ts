import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { UserFacingError } from '#shared/errors.ts';
import type { CliIO } from '../io.ts';
import { demoServicesCommand, registerDemoServices, type ShutdownRequest } from './command.ts';
import { call } from './test-client.ts';

function bufferedIO(env: Record<string, string> = {}): CliIO & { out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  stderr.resume();
  return { stdout, stderr, env, cwd: process.cwd(), out: () => out };
}

/** A shutdown the test triggers, standing in for SIGINT/SIGTERM. */
function manualShutdown() {
  let trigger: (signal: string) => void = () => {};
  const received = new Promise<string>((resolve) => {
    trigger = resolve;
  });
  const state = { disposed: false };
  const request: ShutdownRequest = {
    received,
    dispose: () => {
      state.disposed = true;
    },
  };
  return { request, trigger: (signal: string) => trigger(signal), state };
}

function urlAfter(label: string, text: string): string {
  const match = new RegExp(`${label} +(http://\\S+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${label} URL in:\n${text}`);
  return match[1];
}

describe('aegis demo-services', () => {
  it('prints where the services listen, logs requests, and stops on a signal with 0', async () => {
    const io = bufferedIO();
    const shutdown = manualShutdown();
    const running = demoServicesCommand(
      io,
      { host: '127.0.0.1', port: '0' },
      () => shutdown.request,
    );
    await expect.poll(() => io.out()).toContain('Press Ctrl-C to stop.');
    const qaAgentUrl = urlAfter('QA agent', io.out());
    const bugTrackerUrl = urlAfter('bug tracker', io.out());
    expect(io.out()).toContain(
      `webhooks     ${bugTrackerUrl}/api/v1/webhooks  (signatures verified with the demo secret "aegis-demo-secret")`,
    );
    expect(io.out()).toContain('aegis run full_pipeline --config examples/demo.aegis.yaml');
    expect(io.out()).toContain('copy it and change its URLs');

    await call(qaAgentUrl, 'POST', '/api/runs', { body: {} });
    await expect.poll(() => io.out()).toMatch(/qa-agent +POST \/api\/runs 200 \d+ms\n/);

    shutdown.trigger('SIGTERM');
    expect(await running).toBe(0);
    expect(io.out()).toContain('SIGTERM: stopping the demo services\nDemo services stopped.\n');
    expect(shutdown.state.disposed).toBe(true);
    await expect(fetch(`${bugTrackerUrl}/health`)).rejects.toThrow();
  });

  it('says which keys and signatures the services require', async () => {
    const io = bufferedIO({ BUGALIZER_API_KEY: 'k', AEGIS_DEMO_WEBHOOK_SECRET: 's' });
    const shutdown = manualShutdown();
    const running = demoServicesCommand(
      io,
      { host: '127.0.0.1', port: '0' },
      () => shutdown.request,
    );
    await expect.poll(() => io.out()).toContain('Press Ctrl-C to stop.');
    const text = io.out();
    expect(text).toMatch(/QA agent .*no API key/);
    expect(text).toMatch(/bug tracker .*X-API-Key required \(\$BUGALIZER_API_KEY\)/);
    expect(text).toContain('signatures verified with $AEGIS_DEMO_WEBHOOK_SECRET');
    expect(text).toContain('curl -H "X-API-Key: $BUGALIZER_API_KEY" http://');
    shutdown.trigger('SIGINT');
    expect(await running).toBe(0);
  });

  it('refuses an invalid --port in one line', async () => {
    for (const port of ['abc', '70000', '65530', '-1', '', '80.5']) {
      const attempt = demoServicesCommand(bufferedIO(), { host: '127.0.0.1', port });
      await expect(attempt).rejects.toThrow(UserFacingError);
      await expect(attempt).rejects.toThrow(
        `--port: expected an integer from 0 to 65525 (the bug tracker listens on --port + 10), got "${port}"`,
      );
    }
  });

  it('refuses an empty --host', async () => {
    await expect(demoServicesCommand(bufferedIO(), { host: ' ', port: '0' })).rejects.toThrow(
      '--host: expected an address, got ""',
    );
  });

  it('names the port in use and how to choose others', async () => {
    const io = bufferedIO();
    const shutdown = manualShutdown();
    const first = demoServicesCommand(io, { host: '127.0.0.1', port: '0' }, () => shutdown.request);
    await expect.poll(() => io.out()).toContain('Press Ctrl-C to stop.');
    const port = new URL(urlAfter('QA agent', io.out())).port;
    const second = manualShutdown();
    await expect(
      demoServicesCommand(bufferedIO(), { host: '127.0.0.1', port }, () => second.request),
    ).rejects.toThrow(
      `port ${port} is already in use: the QA agent cannot listen on 127.0.0.1:${port} (choose other ports with --port; the bug tracker uses --port + 10)`,
    );
    expect(second.state.disposed).toBe(true);
    shutdown.trigger('SIGTERM');
    await first;
  });

  it('registers the command with its options and help', async () => {
    const io = bufferedIO();
    const program = new Command('aegis').exitOverride();
    registerDemoServices(program, io, () => {});
    const command = program.commands.find((c) => c.name() === 'demo-services');
    expect(command?.description()).toContain('simulated QA agent and bug tracker');
    command?.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s) });
    const help = program.parseAsync(['demo-services', '--help'], { from: 'user' });
    await expect(help).rejects.toBeInstanceOf(CommanderError);
    const text = io.out();
    expect(text).toContain('--host <host>');
    expect(text).toContain('(default: "127.0.0.1")');
    expect(text).toContain('(default: "8080")');
    expect(text).toContain('QAAGENT_API_KEY');
    expect(text).toContain('then exits 0');
  });

  it("hands the action's errors to the CLI, which prints them in one line", async () => {
    const program = new Command('aegis').exitOverride();
    registerDemoServices(program, bufferedIO(), () => {});
    await expect(
      program.parseAsync(['demo-services', '--port', 'x'], { from: 'user' }),
    ).rejects.toThrow(UserFacingError);
  });
});
