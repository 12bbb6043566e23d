// Runs in a fresh `node` process, as a Lambda sandbox does: imports one built
// bundle, calls its `handler` with each event read from stdin (JSON), and
// prints one JSON line with what each call returned or threw.
//   stdin:  {"bundle": "/abs/index.mjs", "events": [...], "remainingMs": 20000}
//   stdout: {"importMs": 41.2, "results": [{"ok": true, "value": {...}} | {"ok": false, "error": "..."}]}
import { pathToFileURL } from 'node:url';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { bundle, events, remainingMs } = JSON.parse(input);

const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const importMs = performance.now() - started;

const results = [];
for (const event of events) {
  const deadline = Date.now() + (remainingMs ?? 30_000);
  const lambdaContext = {
    awsRequestId: `test-${results.length + 1}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    results.push({ ok: true, value: await handler(event, lambdaContext) });
  } catch (error) {
    results.push({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}
// The bundle's own log lines go to stdout too: the last line is ours.
process.stdout.write(`\n${JSON.stringify({ importMs, results })}\n`);
// A Lambda sandbox is frozen, not drained: keep-alive sockets must not hold the test up.
process.exit(0);
