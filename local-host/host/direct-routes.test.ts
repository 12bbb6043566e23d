import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { API_ROUTES } from '#functions/index.ts';
import type { AegisContext } from '#shared/context.ts';
import { ServiceUnavailableError } from '#shared/errors.ts';
import { createApiApp } from '#shared/http-api/api-app.ts';
import { defineRoute, jsonText, type RouteDefinition } from '#shared/http-api/route.ts';
import { testContext } from '#test/support/context.ts';
import { recordWholeRun } from '#test/support/runs.ts';
import { createHost } from './create-host.ts';
import { directRoutes } from './direct-routes.ts';

const YAML = (auth = '') => `
${auth}
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
`;

async function listen(listener: RequestListener): Promise<string> {
  const server = createServer(listener).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The direct routes over an app, counting the requests that reach the app. */
async function directHost(
  context: AegisContext,
  routes: readonly RouteDefinition[],
  app: RequestListener,
) {
  let routed = 0;
  const url = await listen(
    directRoutes(context, routes, (req, res) => {
      routed++;
      app(req, res);
    }),
  );
  return { url, routed: () => routed };
}

/** What a caller sees of an answer: status, the headers Express sets, the body. */
async function seen(answer: Response) {
  const headers = Object.fromEntries(
    ['content-type', 'content-length', 'x-request-id', 'access-control-allow-origin'].map(
      (name) => [name, answer.headers.get(name)],
    ),
  );
  return { status: answer.status, headers, body: await answer.text() };
}

describe('the direct routes (the history, without Express)', () => {
  it('answer GET /api/history with the bytes and headers Express gives, without Express', async () => {
    const { context, logs } = testContext(YAML());
    const stores = await context.stores();
    await recordWholeRun(stores);
    await recordWholeRun(stores);
    const direct = await directHost(context, API_ROUTES, createHost(context));
    const express = await listen(createHost(context));
    const headers = { 'x-request-id': 'req-history-1' };
    for (const query of ['', '?limit=1', '?limit=2&offset=1&status=completed', '?status=queued']) {
      const viaDirect = await seen(await fetch(`${direct.url}/api/history${query}`, { headers }));
      const viaExpress = await seen(await fetch(`${express}/api/history${query}`, { headers }));
      expect(viaDirect).toEqual(viaExpress);
      expect(viaDirect.status).toBe(200);
    }
    expect(JSON.parse((await seen(await fetch(`${direct.url}/api/history`))).body)).toHaveLength(2);
    expect(direct.routed()).toBe(0);
    // The same log line as through Express: the path without its query.
    const lines = logs().filter((line) => line.message === 'request');
    expect(lines.filter((line) => line.request_id === 'req-history-1')).toHaveLength(8);
    expect(new Set(lines.map((line) => line.path))).toEqual(new Set(['/api/history']));
  });

  it('leave to Express what is not a plain success: bad queries, other paths, HEAD, refused callers', async () => {
    const { context } = testContext(
      YAML(
        'auth: { protect_reads: true, keys: [{ name: ci, key: ci-key-123456, scopes: [read] }] }',
      ),
    );
    const direct = await directHost(context, API_ROUTES, createHost(context));
    const key = { 'x-api-key': 'ci-key-123456' };
    const badLimit = await fetch(`${direct.url}/api/history?limit=abc`, { headers: key });
    expect(badLimit.status).toBe(400);
    expect(await badLimit.text()).toContain(`query parameter 'limit'`);
    expect((await fetch(`${direct.url}/api/history?colour=red`, { headers: key })).status).toBe(
      400,
    );
    expect((await fetch(`${direct.url}/api/history`)).status).toBe(401);
    expect(
      (await fetch(`${direct.url}/api/history`, { method: 'HEAD', headers: key })).status,
    ).toBe(200);
    expect((await fetch(`${direct.url}/api/workflows`, { headers: key })).status).toBe(200);
    expect(direct.routed()).toBe(5);
    expect((await fetch(`${direct.url}/api/history`, { headers: key })).status).toBe(200);
    expect(direct.routed()).toBe(5);
  });

  it('leave a failing handler, or an answer other than JSON text, to Express to answer', async () => {
    const { context } = testContext(YAML());
    const route = (path: string, handle: RouteDefinition['handle']) =>
      defineRoute({
        method: 'get',
        path,
        access: 'public',
        tag: 'test',
        summary: path,
        direct: true,
        responses: { 200: { description: 'ok' } },
        handle,
      });
    const routes = [
      route('/api/away', () => {
        throw new ServiceUnavailableError('the database is away');
      }),
      route('/api/plain', () => ({ plain: true })),
      route('/api/text', () => jsonText('{"text":true}')),
    ];
    const direct = await directHost(context, routes, createApiApp(context, { routes }));
    const away = await fetch(`${direct.url}/api/away`);
    expect(away.status).toBe(503);
    expect(await away.json()).toMatchObject({ message: 'the database is away' });
    expect(await (await fetch(`${direct.url}/api/plain`)).json()).toEqual({ plain: true });
    expect(direct.routed()).toBe(2);
    expect(await (await fetch(`${direct.url}/api/text`)).json()).toEqual({ text: true });
    expect(direct.routed()).toBe(2);
  });
});
