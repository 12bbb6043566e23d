import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Instant stand-ins for the QA agent, the bug tracker and a webhook receiver, on one port: every
 * answer is a constant JSON body, sent as soon as the request body has arrived. The QA agent's
 * test run reports one failing test (so `submit_bugs` and `verify` run), its verify run none.
 */
const ROUTES = JSON.stringify({
  routes: [
    { method: 'GET', path: '/users' },
    { method: 'POST', path: '/users' },
  ],
});
const TEST_RUN = JSON.stringify({
  total: 3,
  passed: 2,
  failed: 1,
  failures: [{ test: 'test_create_user', error: 'expected 201, got 500' }],
});
const VERIFY_RUN = JSON.stringify({ total: 3, passed: 3, failed: 0, failures: [] });
const OK = JSON.stringify({ status: 'ok' });

export interface StubServices {
  url: string;
  /** Requests answered, by `METHOD /path`. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

export async function startStubServices(): Promise<StubServices> {
  const counts = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const key = `${req.method} ${req.url}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      switch (key) {
        case 'GET /health':
          return answer(res, 200, OK);
        case 'GET /api/routes':
          return answer(res, 200, ROUTES);
        case 'POST /api/runs':
          return answer(res, 200, body.includes('"verify_only":true') ? VERIFY_RUN : TEST_RUN);
        case 'POST /api/v1/reports':
          return answer(res, 201, JSON.stringify({ created: 1 }));
        case 'POST /webhooks':
          return answer(res, 200, OK);
        default:
          return answer(res, 404, JSON.stringify({ error: 'not_found' }));
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
