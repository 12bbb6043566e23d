import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '#functions/index.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { startTestHost } from '#test/support/host.ts';

/**
 * SPEC §15, over every route the registry declares (so a new route cannot
 * forget its scope): with keys on and reads protected, each route is tried
 * with no key, a wrong key and a key of each scope. A route's own answer
 * beyond the key check (404 for the made-up ids, 400, 200) is not what is
 * judged here; only whether the key check let the request through.
 */

const KEYS = { read: 'key-of-reader-1', run: 'key-of-runner-2', admin: 'key-of-admin-3' } as const;

const CONFIG = `
auth:
  protect_reads: true
  keys:
    - { name: reader, key: ${KEYS.read}, scopes: [read] }
    - { name: runner, key: ${KEYS.run}, scopes: [run] }
    - { name: admin, key: ${KEYS.admin}, scopes: [admin] }
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
workflows:
  smoke: { name: Smoke, steps: [{ type: report, service: qaagent }] }
`;

/** A concrete path for a route: its parameters filled with values that exist or are harmless. */
function pathOf(route: RouteDefinition): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'name' ? 'smoke' : name === 'id' ? '1' : 'no-such-run',
  );
}

async function statusOf(url: string, route: RouteDefinition, key: string | undefined) {
  const response = await fetch(`${url}${pathOf(route)}`, {
    method: route.method.toUpperCase(),
    headers: {
      ...(key === undefined ? {} : { 'x-api-key': key }),
      ...(route.method === 'post' ? { 'content-type': 'application/json' } : {}),
    },
    ...(route.method === 'post' ? { body: '{}' } : {}),
    // A stream that was let through stays open: its status is all this test needs.
    signal: AbortSignal.timeout(5_000),
  });
  await response.body?.cancel();
  return { status: response.status };
}

const cases = API_ROUTES.map(
  (route) => [`${route.method.toUpperCase()} ${route.path}`, route] as const,
);

/**
 * SPEC §15's scopes, route by route: reads need `read`, starting, cancelling
 * and rerunning need `run`, everything else `admin`; `/health`,
 * `/openapi.json` and the signed triggers need no key. A route missing here
 * fails the first test, so a new one is placed on purpose.
 */
function expectedAccess(route: RouteDefinition): RouteDefinition['access'] {
  if (['/health', '/openapi.json', '/api/triggers/{name}'].includes(route.path)) return 'public';
  if (route.method === 'get') return 'read';
  const run = [
    '/api/workflows/{name}/run',
    '/api/runs/{run_id}/cancel',
    '/api/runs/{run_id}/rerun',
  ];
  return run.includes(route.path) ? 'run' : 'admin';
}

describe('every route declares who may call it, and the host enforces it', () => {
  it('declares the scope SPEC §15 gives it', () => {
    const declared = API_ROUTES.map((r) => `${r.method} ${r.path}: ${r.access}`);
    const expected = API_ROUTES.map((r) => `${r.method} ${r.path}: ${expectedAccess(r)}`);
    expect(declared).toEqual(expected);
  });

  it.each(cases)('%s', async (_, route) => {
    const { url } = await startTestHost(CONFIG);
    const none = await statusOf(url, route, undefined);
    const wrong = await statusOf(url, route, 'not-a-key');
    const byScope = {
      read: await statusOf(url, route, KEYS.read),
      run: await statusOf(url, route, KEYS.run),
      admin: await statusOf(url, route, KEYS.admin),
    };

    if (route.access === 'public') {
      for (const answer of [none, wrong, ...Object.values(byScope)])
        expect([401, 403]).not.toContain(answer.status);
      return;
    }
    expect(none.status).toBe(401);
    expect(wrong.status).toBe(401);
    for (const [scope, answer] of Object.entries(byScope)) {
      if (scope === route.access) expect([401, 403]).not.toContain(answer.status);
      else expect(answer.status, `a ${scope} key on ${route.access}`).toBe(403);
    }
  });

  it('names the key and the missing scope in a 403, and accepts a key only in the header', async () => {
    const { url } = await startTestHost(CONFIG);
    const forbidden = await fetch(`${url}/api/workflows/smoke/run`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.read },
    });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({
      error: 'forbidden',
      message: "key 'reader' lacks scope 'run'",
    });
    const inQuery = await fetch(`${url}/api/workflows?api_key=${KEYS.read}`);
    expect(inQuery.status).toBe(401);
    const inHeader = await fetch(`${url}/api/workflows`, { headers: { 'x-api-key': KEYS.read } });
    expect(inHeader.status).toBe(200);
  });

  it('records the name of the key that started a run, never its value', async () => {
    const { url, logText } = await startTestHost(CONFIG);
    const started = await fetch(`${url}/api/workflows/smoke/run?async=true`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.run },
    });
    const { run_id } = (await started.json()) as { run_id: string };
    const record = await fetch(`${url}/api/runs/${run_id}?wait=5`, {
      headers: { 'x-api-key': KEYS.read },
    });
    expect(await record.json()).toMatchObject({ triggered_by: 'runner', status: 'completed' });
    expect(logText()).not.toContain(KEYS.run);
    expect(logText()).not.toContain(KEYS.read);
  });
});
