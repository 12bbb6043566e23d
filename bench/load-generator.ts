// The load generator, in a process of its own (pinned to the other CPU than the server):
//   node --import ./infra/register-ts.mjs bench/load-generator.ts '{"url":…,"connections":50,"seconds":10}'
// Replies with requests per second, latency percentiles (ms), errors.
import autocannon from 'autocannon';
import { childInput, reply } from './child.ts';

export interface LoadInput {
  url: string;
  connections: number;
  seconds: number;
}

export interface LoadOutput {
  requestsPerSecond: number;
  totalRequests: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}

const input = childInput<LoadInput>();
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.seconds,
  pipelining: 1,
});
const output: LoadOutput = {
  requestsPerSecond: result.requests.average,
  totalRequests: result.requests.total,
  latencyMs: {
    p50: result.latency.p50,
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
