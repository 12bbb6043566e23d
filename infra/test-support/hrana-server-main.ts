/**
 * The Hrana test server as a process of its own (started by
 * `startHranaServerProcess`): prints `{"url", "path"}` on one line once it
 * listens; stops on SIGTERM, or when its parent goes away (stdin ends).
 */
import { type HranaServerOptions, startHranaServer } from './hrana-server.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as HranaServerOptions;
const server = await startHranaServer(options);
process.stdout.write(`${JSON.stringify({ url: server.url, path: server.path })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
