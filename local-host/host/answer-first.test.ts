import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PrebuiltAnswers } from '#shared/http-api/prebuilt-answers.ts';
import { testContext } from '#test/support/context.ts';
import { answerFirst } from './answer-first.ts';
import { createHost } from './create-host.ts';

const YAML = `
workflows:
  smoke: { name: Smoke, steps: [{ type: discover, service: qaagent }] }
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
`;

/** The front door over the real app, counting the requests that reach Express. */
async function frontDoorHost() {
  const { context } = testContext(YAML);
  const answers = new PrebuiltAnswers();
  const app = createHost(context, { answers });
  let routed = 0;
  const server = createServer(
    answerFirst(context, answers, (req, res) => {
      routed++;
      app(req, res);
    }),
  ).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, routed: () => routed };
}

describe('the front door', () => {
  it('builds a config-only answer through Express once, then serves its bytes without it', async () => {
    const { url, routed } = await frontDoorHost();
    const first = await (await fetch(`${url}/api/workflows/smoke`)).text();
    expect(routed()).toBe(1);
    for (let i = 0; i < 3; i++)
      expect(await (await fetch(`${url}/api/workflows/smoke`)).text()).toBe(first);
    expect(routed()).toBe(1);
    await fetch(`${url}/health`);
    expect(routed()).toBe(1);
  });

  it('leaves to Express what it has not built: other URLs, HEAD, routes that read the database', async () => {
    const { url, routed } = await frontDoorHost();
    await fetch(`${url}/api/workflows`);
    await fetch(`${url}/api/workflows?extra=1`);
    await fetch(`${url}/api/workflows`, { method: 'HEAD' });
    await fetch(`${url}/api/history`);
    await fetch(`${url}/api/history`);
    expect(routed()).toBe(5);
  });
});
