// The `health` Lambda handler invoked directly with an API Gateway v2 event, in a loop, in a
// process of its own (its request log goes to stdout, which the bench discards):
//   node --import ./infra/register-ts.mjs bench/handler-loop.ts '{"rounds":5,"roundMs":400}'
// Replies with the first call (cold: context and app built) and µs per warm call.
import { handler } from '#functions/health/handler.ts';
import { apiGatewayEvent } from '#shared/http-api/apigw-event.ts';
import { childInput, reply } from './child.ts';

export interface HandlerInput {
  rounds: number;
  roundMs: number;
  warmupCalls: number;
}

export interface HandlerOutput {
  firstCallMs: number;
  /** µs per call, one per round. */
  roundsUs: number[];
  calls: number;
}

const { rounds, roundMs, warmupCalls } = childInput<HandlerInput>();
// One event object per call, built outside the timed section, as Lambda hands over a parsed event.
const event = () => apiGatewayEvent({ path: '/health' });

const coldStart = performance.now();
const first = await handler(event());
const firstCallMs = performance.now() - coldStart;
if (first.statusCode !== 200) throw new Error(`health answered ${first.statusCode}: ${first.body}`);

for (let i = 0; i < warmupCalls; i++) await handler(event());

const roundsUs: number[] = [];
let calls = 0;
for (let r = 0; r < rounds; r++) {
  const events = Array.from({ length: 20_000 }, event);
  let n = 0;
  const started = performance.now();
  const until = started + roundMs;
  while (n < events.length && (n % 64 !== 0 || performance.now() < until)) {
    await handler(events[n] as (typeof events)[number]);
    n++;
  }
  roundsUs.push(((performance.now() - started) * 1000) / n);
  calls += n;
}
const output: HandlerOutput = { firstCallMs, roundsUs, calls };
reply(output);
