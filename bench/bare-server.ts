// The baseline: a bare node:http server answering what `GET /health` answers, with the same
// headers (a fresh request id, CORS, JSON content type and length), so the ratio measures what
// Aegis adds on top of Node's HTTP stack.
//   node --import ./infra/register-ts.mjs bench/bare-server.ts '{"port":…}'
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const { port } = JSON.parse(process.argv[2] ?? '{}') as { port: number };
const startedAt = performance.now();
const server = createServer((_req, res) => {
  const body = JSON.stringify({
    status: 'ok',
    version: '0.1.0',
    uptime_seconds: Math.round((performance.now() - startedAt) / 100) / 10,
    services_configured: 0,
    workflows_configured: 0,
  });
  res.writeHead(200, {
    'x-request-id': randomUUID(),
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'X-Request-Id',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
