import type { RequestListener } from 'node:http';

/**
 * Starts the requests it is given one per turn of the event loop, in the
 * order they came.
 *
 * libuv (Node ≥ 20) accepts one new connection per turn, and a turn runs the
 * handler of every request that arrived on the connections it already has.
 * Under load from 50 keep-alive connections a turn of history pages takes
 * ~15 ms, so the 50th connection waited ~50 turns, 600 ms, for its first
 * answer: the tail wrk showed (bench/README.md). Started one per turn, a new
 * connection is accepted after one request's time, and every request waits
 * about as long as the others. The work a request does stays the same; only
 * when it starts moves, by at most the requests queued ahead of it.
 */
export function oneRequestPerTurn(listener: RequestListener): RequestListener {
  const waiting: Parameters<RequestListener>[] = [];

  function startNext(): void {
    const next = waiting.shift();
    // Scheduled before the request starts, so one that throws cannot stall those behind it.
    if (waiting.length > 0) setImmediate(startNext);
    if (next) listener(...next);
  }

  return function queued(req, res) {
    if (waiting.push([req, res]) === 1) setImmediate(startNext);
  };
}
