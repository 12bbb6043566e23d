// The baseline: a bare node:http server answering what Aegis answers, with the same headers (a
// fresh request id, CORS, JSON content type and length), so the ratio measures what Aegis adds on
// top of Node's HTTP stack. Without `bodyFile` it answers what `GET /health` answers; with it,
// those exact bytes, on any path.
//   node --import ./infra/register-ts.mjs bench/bare-server.ts '{"port":…,"bodyFile":…}'
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { aegisHeaders, type BareInput } from './bare-headers.ts';
import { childInput } from './child.ts';

const { port, bodyFile } = childInput<BareInput>();
const fixed = bodyFile === undefined ? undefined : readFileSync(bodyFile);
const startedAt = performance.now();

function healthBody(): Buffer {
  return Buffer.from(
    JSON.stringify({
      status: 'ok',
      version: '0.1.0',
      uptime_seconds: Math.round((performance.now() - startedAt) / 100) / 10,
      services_configured: 0,
      workflows_configured: 0,
    }),
  );
}

const server = createServer((_req, res) => {
  const body = fixed ?? healthBody();
  res.writeHead(200, aegisHeaders(body.length));
  res.end(body);
});
// As Aegis's: the load generator's connections stay open between rounds.
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
