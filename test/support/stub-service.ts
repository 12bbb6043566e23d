import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

/** A request a stub received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** True once the client closed the connection before the answer was sent (an aborted request). */
  aborted: boolean;
}

/** How a stub answers one route: a JSON body, or full control. */
export interface StubAnswer {
  status?: number;
  body?: unknown;
  /** Sent as-is instead of JSON.stringify(body). */
  raw?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (to test timeouts). */
  delayMs?: number;
  /** Send the headers and half the body, then drop the connection (a service dying mid-answer). */
  truncate?: boolean;
  /** Answer only once this settles (then after delayMs): lets a test hold requests until others arrive. */
  waitFor?: Promise<unknown>;
}

export type StubRoute = StubAnswer | ((request: RecordedRequest, callNumber: number) => StubAnswer);

/**
 * A real HTTP server on 127.0.0.1 standing in for a QA agent, bug tracker or
 * webhook receiver: answers per `METHOD /path`, records every request.
 */
export interface StubService {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Requests to one route. */
  calls(route: string): RecordedRequest[];
  /** Replace or add a route while running. */
  route(route: string, answer: StubRoute): void;
  close(): Promise<void>;
}

export const QA_AGENT_ROUTES: Record<string, StubRoute> = {
  'GET /health': { body: { status: 'ok' } },
  'GET /api/routes': {
    body: {
      routes: [
        { method: 'GET', path: '/users' },
        { method: 'POST', path: '/users' },
      ],
    },
  },
  'POST /api/runs': (request) =>
    (request.json as { verify_only?: boolean } | null)?.verify_only
      ? { body: { total: 3, passed: 3, failed: 0, failures: [] } }
      : {
          body: {
            total: 3,
            passed: 2,
            failed: 1,
            failures: [{ test: 'test_create_user', error: 'expected 201, got 500' }],
          },
        },
};

export const BUG_TRACKER_ROUTES: Record<string, StubRoute> = {
  'GET /health': { body: { status: 'ok' } },
  'POST /api/v1/reports': (request) => ({
    status: 201,
    body: { created: ((request.json as { failures?: unknown[] })?.failures ?? []).length },
  }),
};

export async function startStub(
  routes: Record<string, StubRoute> = {},
  port = 0,
): Promise<StubService> {
  const table = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const counts = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let json: unknown = null;
    try {
      json = body === '' ? null : JSON.parse(body);
    } catch {}
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      json,
      aborted: false,
    };
    // 'close' before the answer finished means the client gave up: how tests see that a timeout really aborts.
    const closed = new Promise<void>((resolve) =>
      res.once('close', () => {
        if (!res.writableFinished) recorded.aborted = true;
        resolve();
      }),
    );
    requests.push(recorded);
    const key = `${recorded.method} ${path}`;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    const route = table.get(key);
    const answer: StubAnswer =
      route === undefined
        ? { status: 404, body: { error: 'not_found' } }
        : typeof route === 'function'
          ? route(recorded, count)
          : route;
    if (answer.waitFor) await Promise.race([answer.waitFor.catch(() => undefined), closed]);
    if (answer.delayMs) {
      // A client that gives up ends the wait, so no timer outlives the test.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise((resolve) => {
          timer = setTimeout(resolve, answer.delayMs);
        }),
        closed,
      ]);
      clearTimeout(timer);
    }
    if (res.destroyed) return;
    const payload = answer.raw ?? JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status ?? 200, {
      'content-type': 'application/json',
      // Announcing the whole length makes the cut-off answer visibly incomplete.
      ...(answer.truncate ? { 'content-length': String(Buffer.byteLength(payload)) } : {}),
      ...answer.headers,
    });
    if (answer.truncate) {
      res.write(payload.slice(0, Math.floor(payload.length / 2)), () => res.destroy());
      return;
    }
    res.end(payload);
  });
  server.keepAliveTimeout = 1000;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    calls: (route) => requests.filter((r) => `${r.method} ${r.path}` === route),
    route: (route, answer) => void table.set(route, answer),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A stub for one test: started now, closed when the test ends. */
export async function stubForTest(routes: Record<string, StubRoute> = {}): Promise<StubService> {
  const stub = await startStub(routes);
  onTestFinished(() => stub.close());
  return stub;
}

/** The stand-in QA agent and bug tracker, started before a file's tests and closed after them. */
export function qaStubsForFile(): { readonly qa: StubService; readonly bugs: StubService } {
  const stubs = {} as { qa: StubService; bugs: StubService };
  beforeAll(async () => {
    stubs.qa = await startStub(QA_AGENT_ROUTES);
    stubs.bugs = await startStub(BUG_TRACKER_ROUTES);
  });
  afterAll(async () => {
    await stubs.qa?.close();
    await stubs.bugs?.close();
  });
  return stubs;
}
