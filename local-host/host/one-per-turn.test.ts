import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { RequestListener } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { oneRequestPerTurn } from './one-per-turn.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const REGISTER = join(ROOT, 'infra', 'register-ts.mjs');
const FIXTURE = join(import.meta.dirname, 'one-per-turn.fixture.ts');
const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

let server: ChildProcessByStdio<null, Readable, Readable> | undefined;
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  server?.kill('SIGKILL');
  server = undefined;
});

async function startServer(...args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', REGISTER, FIXTURE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return Number(chunk.toString().trim());
}

/** A keep-alive connection that calls `onServed` with each answer's x-served counter. */
function connection(port: number, onServed: (served: number, socket: Socket) => void): Socket {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    pending += text;
    let end = pending.indexOf('\r\n\r\nok');
    while (end !== -1) {
      const served = Number(/x-served: (\d+)/i.exec(pending.slice(0, end))?.[1]);
      pending = pending.slice(end + 6);
      onServed(served, socket);
      end = pending.indexOf('\r\n\r\nok');
    }
  });
  socket.on('error', () => {});
  return socket;
}

/** What a request listener is given, with only the URL filled in (the listeners here read nothing else). */
function request(url: string): Parameters<RequestListener> {
  return [{ url }, {}] as unknown as Parameters<RequestListener>;
}

describe('oneRequestPerTurn', () => {
  it('starts requests in the order they came, one per turn of the event loop', async () => {
    const started: string[] = [];
    const queued = oneRequestPerTurn((req) => {
      started.push(`${req.url}`);
      setImmediate(() => started.push(`turn after ${req.url}`));
    });
    queued(...request('/a'));
    queued(...request('/b'));
    queued(...request('/c'));
    expect(started).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // What /a scheduled for the next turn ran before /b started: /b waited for a turn.
    expect(started).toEqual(['/a', '/b', 'turn after /a', '/c', 'turn after /b', 'turn after /c']);
  });

  it('keeps going after a request that throws', async () => {
    const started: string[] = [];
    const queued = oneRequestPerTurn((req) => {
      started.push(`${req.url}`);
      if (req.url === '/bad') throw new Error('boom');
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      queued(...request('/bad'));
      queued(...request('/good'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(started).toEqual(['/bad', '/good']);
    expect(uncaught).toEqual([new Error('boom')]);
  });

  it('answers connections opened while the server is busy after about one request each', async () => {
    // 20 keep-alive connections keep a server that spends 2 ms on each request busy; then 20
    // new connections send one request each at once. libuv accepts one connection per turn of
    // the event loop: were every turn to run the requests of all 20 busy connections, the last
    // new one would wait ~20 turns × 20 requests. Started one per turn, each waits for about the
    // requests queued ahead of it.
    const port = await startServer('2');
    const BUSY = 20;
    let lastServed = 0;
    let burst: Promise<number[]> | undefined;
    let burstStartedAt = 0;
    for (let i = 0; i < BUSY; i++) {
      const socket = connection(port, (served, busy) => {
        lastServed = Math.max(lastServed, served);
        busy.write(REQUEST);
        if (burst === undefined && served >= 5 * BUSY) {
          burstStartedAt = lastServed;
          burst = Promise.all(
            Array.from(
              { length: 20 },
              () =>
                new Promise<number>((resolve) => {
                  connection(port, (servedNew) => resolve(servedNew)).write(REQUEST);
                }),
            ),
          );
        }
      });
      socket.write(REQUEST);
    }
    await expect.poll(() => burst, { timeout: 10_000 }).toBeDefined();
    const answered = await (burst as unknown as Promise<number[]>);
    const waited = answered.map((served) => served - burstStartedAt);
    // Each new request waits behind at most the busy ones and the other new ones, twice over.
    expect(Math.max(...waited)).toBeLessThanOrEqual(2 * (BUSY + 20));
  });
});
