// The memory section's reference: the packages ARCHITECTURE.md asks for, each used once as Aegis
// uses it (a libSQL file opened and read, a YAML document, a zod schema, a Prometheus counter, a
// Powertools log line, an Express app behind node:http and wrapped by serverless-http, a commander
// program) and none of Aegis's code. The bench bundles it as the CLI is bundled and reads its
// idle RSS beside `aegis serve`'s.
//   node dist/bench-stack-floor.mjs <port> <database file>   (GET /x?limit=1 answers 200)
import { createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { Logger } from '@aws-lambda-powertools/logger';
import { createClient } from '@libsql/client';
import { Command } from 'commander';
import express from 'express';
import { Counter } from 'prom-client';
import serverless from 'serverless-http';
import { parse } from 'yaml';
import { z } from 'zod';

// As `aegis serve` does (local-host/commands/serve.ts).
setFlagsFromString('--optimize-for-size');
const program = new Command('floor').argument('<port>').argument('<database>').parse();
const [port = '', database = ''] = program.args;
const logger = new Logger({ serviceName: 'stack-floor' });
const limits = z.object({ limit: z.coerce.number().int().min(1).max(1000) });
const config = parse('workflows: { smoke: { steps: [] } }') as unknown;
const requests = new Counter({ name: 'floor_requests_total', help: 'requests' });
const db = createClient({ url: `file:${database}` });
await db.execute('CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY)');
await db.execute('SELECT count(*) FROM runs');
const app = express();
app.get('/x', (req, res) => {
  requests.inc();
  res.json({ ...limits.parse(req.query), config });
});
serverless(app);
createServer(app).listen(Number(port), '127.0.0.1', () => logger.info('listening'));
