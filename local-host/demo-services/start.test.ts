import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UserFacingError } from '#shared/errors.ts';
import { DemoListenError, type DemoServices, startDemoServices } from './start.ts';
import { call } from './test-client.ts';

/** A TCP server holding a port, closed when the test ends. */
async function occupy(port = 0): Promise<number> {
  const server: Server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A port that was free a moment ago, with port + 10 free as well. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (address === null || typeof address === 'string') continue;
    if (address.port > 65525) continue;
    const above = createServer().listen(address.port + 10, '127.0.0.1');
    const free = await Promise.race([
      once(above, 'listening').then(() => true),
      once(above, 'error').then(() => false),
    ]);
    if (free) await new Promise<void>((resolve) => above.close(() => resolve()));
    if (free) return address.port;
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function started(options: Parameters<typeof startDemoServices>[0]): Promise<DemoServices> {
  const services = await startDemoServices(options);
  onTestFinished(() => services.close());
  return services;
}

describe('startDemoServices', () => {
  it('gives both services their own free port with port 0', async () => {
    const services = await started({ host: '127.0.0.1', port: 0 });
    expect(services.qaAgentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(services.bugTrackerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(portOf(services.qaAgentUrl)).not.toBe(portOf(services.bugTrackerUrl));
    expect(services.webhookUrl).toBe(`${services.bugTrackerUrl}/api/v1/webhooks`);
    expect((await call(services.qaAgentUrl, 'GET', '/health')).json).toMatchObject({
      service: 'qa-agent',
    });
    expect((await call(services.bugTrackerUrl, 'GET', '/health')).json).toMatchObject({
      service: 'bug-tracker',
    });
  });

  it('puts the bug tracker on port + 10', async () => {
    const port = await freePortPair();
    const services = await started({ port });
    expect(services.qaAgentUrl).toBe(`http://127.0.0.1:${port}`);
    expect(services.bugTrackerUrl).toBe(`http://127.0.0.1:${port + 10}`);
  });

  it('reports a wildcard host through loopback URLs', async () => {
    const services = await started({ host: '0.0.0.0', port: 0 });
    expect(services.qaAgentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(services.qaAgentUrl, 'GET', '/health')).status).toBe(200);
  });

  it('names the port that is already in use', async () => {
    const port = await occupy();
    const starting = startDemoServices({ port });
    await expect(starting).rejects.toThrow(DemoListenError);
    await expect(starting).rejects.toThrow(
      `port ${port} is already in use: the QA agent cannot listen on 127.0.0.1:${port}`,
    );
  });

  it("closes the QA agent again when the bug tracker's port is taken", async () => {
    const port = await freePortPair();
    await occupy(port + 10);
    await expect(startDemoServices({ port })).rejects.toThrow(
      `port ${port + 10} is already in use: the bug tracker cannot listen`,
    );
    const again = createServer().listen(port, '127.0.0.1');
    await once(again, 'listening');
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it('refuses ports out of range', async () => {
    for (const port of [-1, 1.5, 65530, Number.NaN])
      await expect(startDemoServices({ port })).rejects.toThrow(UserFacingError);
  });

  it('closes both servers, once however often it is asked', async () => {
    const services = await startDemoServices({ port: 0 });
    await Promise.all([services.close(), services.close()]);
    await services.close();
    await expect(fetch(`${services.qaAgentUrl}/health`)).rejects.toThrow();
    await expect(fetch(`${services.bugTrackerUrl}/health`)).rejects.toThrow();
  });

  it('closes while a client keeps an idle connection open', async () => {
    const services = await startDemoServices({ port: 0 });
    await fetch(`${services.qaAgentUrl}/health`, { keepalive: true }).then((r) => r.text());
    const startedAt = performance.now();
    await services.close();
    expect(performance.now() - startedAt).toBeLessThan(1500);
  });
});
