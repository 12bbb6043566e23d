import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '#functions/index.ts';
import type { RouteDefinition } from '#shared/http-api/route.ts';
import { startTestHost } from '#test/support/host.ts';

/**
 * What the fuzzing of issue 16 found, turned into checks: the document is
 * valid OpenAPI 3.1 for a maintained validator, and every answer a route
 * gives — to good and to bad requests — is one its operation declares, with
 * a body of the declared shape.
 */

const KEY = 'openapi-test-key';
const CONFIG = `
auth: { api_key: ${KEY} }
services:
  qaagent: { name: QA Agent, url: "http://127.0.0.1:9" }
workflows:
  smoke: { name: Smoke, steps: [{ type: report, service: qaagent }] }
`;

type Operation = { responses: Record<string, unknown> };
type Document = { paths: Record<string, Record<string, Operation>> };

function pathOf(route: RouteDefinition): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'name' ? 'smoke' : name === 'id' ? '1' : 'no-such-run',
  );
}

interface Probe {
  what: string;
  init: RequestInit;
  query?: string;
}

/** Good and bad requests for a route: each answer must be declared. */
function probes(route: RouteDefinition): Probe[] {
  const method = route.method.toUpperCase();
  const withKey = { 'x-api-key': KEY };
  const list: Probe[] = [
    { what: 'a plain request', init: { method, headers: withKey } },
    { what: 'no key', init: { method } },
    { what: 'an unknown query parameter', init: { method, headers: withKey }, query: 'nope=1' },
  ];
  if (route.method === 'post')
    list.push(
      {
        what: 'a text body',
        init: { method, headers: { ...withKey, 'content-type': 'text/plain' }, body: 'hello' },
      },
      {
        what: 'a body over 1 MiB',
        init: {
          method,
          headers: { ...withKey, 'content-type': 'application/json' },
          body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
        },
      },
      {
        what: 'bad JSON',
        init: { method, headers: { ...withKey, 'content-type': 'application/json' }, body: '{' },
      },
    );
  return list;
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const { url } = await startTestHost(CONFIG);
    const document = await (await fetch(`${url}/openapi.json`)).json();
    const validator = new Validator();
    const result = await validator.validate(document as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it.each(API_ROUTES.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    'declares every answer %s gives, with the body it declares',
    async (_, route) => {
      const { url } = await startTestHost(CONFIG);
      const document = (await (await fetch(`${url}/openapi.json`)).json()) as Document;
      const declared = document.paths[route.path]?.[route.method]?.responses ?? {};
      for (const probe of probes(route)) {
        const response = await fetch(
          `${url}${pathOf(route)}${probe.query ? `?${probe.query}` : ''}`,
          {
            ...probe.init,
            signal: AbortSignal.timeout(5_000),
          },
        );
        const status = response.status;
        expect(Object.keys(declared), `${probe.what} answered ${status}`).toContain(String(status));
        const type = response.headers.get('content-type') ?? '';
        if (!type.includes('application/json')) {
          await response.body?.cancel();
          continue;
        }
        const body: unknown = await response.json();
        const spec = route.responses[status];
        const schema =
          spec?.schema ??
          (status >= 400 ? (await import('#shared/http-api/schemas.ts')).errorSchema : undefined);
        if (schema)
          expect(schema.safeParse(body).success, `${probe.what}: ${JSON.stringify(body)}`).toBe(
            true,
          );
      }
    },
  );
});

describe('the order of the checks (issue 16)', () => {
  it('answers an unknown path 404 and a wrong method 405 before asking for a key', async () => {
    const { url } = await startTestHost(CONFIG);
    expect((await fetch(`${url}/api/nowhere`, { method: 'POST' })).status).toBe(404);
    const wrong = await fetch(`${url}/api/workflows`, { method: 'POST' });
    expect(wrong.status).toBe(405);
  });

  it('answers 401 without reading the body of an unauthenticated request', async () => {
    const { url } = await startTestHost(CONFIG);
    // 2 MiB announced, not a byte sent: the answer must come anyway, from the headers alone.
    const answer = await rawRequest(
      url,
      'POST /api/workflows/smoke/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('answers 413 for a body announced over 1 MiB, whatever its type, without reading it', async () => {
    const { url } = await startTestHost(CONFIG);
    const answer = await rawRequest(
      url,
      `POST /api/workflows/smoke/run HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Type: text/plain\r\nContent-Length: 67108864\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('request body is larger than 1 MiB');
  });
});

describe('request bodies', () => {
  it('inflates a gzip body, and refuses an encoding it does not know with 415', async () => {
    const { url } = await startTestHost(CONFIG);
    const post = (headers: Record<string, string>, body: Uint8Array) =>
      fetch(`${url}/api/workflows/smoke/run`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json', ...headers },
        body,
      });
    const gzipped = await post({ 'content-encoding': 'gzip' }, gzipSync('{"note": "zipped"}'));
    expect(gzipped.status).toBe(200);
    const broken = await post({ 'content-encoding': 'gzip' }, Buffer.from('not gzip'));
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { message: string }).message).toBe(
      'request body is not valid gzip',
    );
    const brotli = await post({ 'content-encoding': 'br' }, Buffer.from('{}'));
    expect(brotli.status).toBe(415);
  });

  it('refuses with 413 a body that grows past 1 MiB without announcing its length', async () => {
    const { url } = await startTestHost(CONFIG);
    const chunk = `${'x'.repeat(65_536)}`;
    const head = `POST /api/workflows/smoke/run HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const answer = await rawRequest(url, head + chunks.join(''), { waitForClose: true });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('slow clients (issue 16)', () => {
  it('cuts off a client that sends its headers too slowly', async () => {
    const { url } = await startTestHost(CONFIG, { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const started = performance.now();
    const answer = await rawRequest(url, 'GET /health HTTP/1.1\r\nHost: x\r\n', {
      waitForClose: true,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 |^$/);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('cuts off a request whose body trickles in too slowly', async () => {
    const { url } = await startTestHost(CONFIG, { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const started = performance.now();
    const answer = await rawRequest(
      url,
      `POST /api/workflows/smoke/run HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"half":`,
      { waitForClose: true },
    );
    expect(answer).toMatch(/^HTTP\/1\.1 (408|400) |^$/);
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

/** Writes raw bytes to the host; resolves with what came back (at the first answer, or when the server closes). */
function rawRequest(url: string, text: string, { waitForClose = false } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within 5 s; got: ${received}`));
    }, 5_000);
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (!waitForClose && received.includes('\r\n\r\n') && /\r\n\r\n[\s\S]*\}/.test(received)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => undefined);
  });
}
