// The Express baseline: a one-route Express 5 app serving the exact bytes Aegis answered for the
// route, with the same headers, so the ratio measures what Aegis adds on top of Express itself.
//   node --import ./infra/register-ts.mjs bench/bare-express.ts '{"port":…,"path":…,"bodyFile":…}'
import { readFileSync } from 'node:fs';
import express from 'express';
import { aegisHeaders, type BareInput } from './bare-headers.ts';
import { childInput } from './child.ts';

const { port, path = '/', bodyFile } = childInput<BareInput>();
if (bodyFile === undefined) throw new Error('bare-express.ts needs a bodyFile');
const body = readFileSync(bodyFile);
const app = express();
// Aegis turns both off: no X-Powered-By header, no ETag hashing of every answer.
app.set('x-powered-by', false);
app.set('etag', false);
// Headers set and bytes ended as Aegis answers its cached reads (not res.send, which does more):
// the difference to Aegis is then its own middleware alone.
app.get(path, (_req, res) => {
  for (const [name, value] of Object.entries(aegisHeaders(body.length))) res.setHeader(name, value);
  res.end(body);
});
const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
