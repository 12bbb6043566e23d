// The fallback load generator where wrk is not installed: autocannon in a process of its own
// (pinned to the other CPU than the server), run by load-generator.ts:
//   node --import ./infra/register-ts.mjs bench/autocannon-load.ts '{"url":…,"connections":50,"seconds":3}'
import autocannon from 'autocannon';
import { childInput, reply } from './child.ts';
import type { LoadInput, LoadOutput } from './load-generator.ts';

const input = childInput<LoadInput>();
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.seconds,
  pipelining: 1,
});
const output: LoadOutput = {
  tool: 'autocannon',
  requestsPerSecond: result.requests.average,
  totalRequests: result.requests.total,
  latencyMs: {
    p50: result.latency.p50,
    p75: result.latency.p75,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    mean: result.latency.average,
  },
  errors: result.errors,
  non2xx: result.non2xx,
  timeouts: result.timeouts,
};
reply(output);
