// A server for one-per-turn.test.ts, in its own process so that its event loop is not the
// test's: every request busies it for `spinMs`; `direct` leaves out oneRequestPerTurn.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { oneRequestPerTurn } from './one-per-turn.ts';

const spinMs = Number(process.argv[2] ?? 2);
const direct = process.argv[3] === 'direct';
let served = 0;

const busy: RequestListener = (_req, res) => {
  const until = performance.now() + spinMs;
  while (performance.now() < until);
  served += 1;
  res.writeHead(200, { 'x-served': String(served), 'content-length': 2 });
  res.end('ok');
};

const server = createServer(direct ? busy : oneRequestPerTurn(busy));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
