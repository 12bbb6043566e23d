import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '#functions/index.ts';
import { runAegis } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';
import { sharedDatabase, startHostProcess } from '#test/support/hosts.ts';
import { BUG_TRACKER_ROUTES, QA_AGENT_ROUTES, stubForTest } from '#test/support/stub-service.ts';
import { writeConfig } from '#test/support/temp.ts';

/**
 * SPEC §15, judged from outside: a whole run with webhooks through a real
 * `aegis serve` at LOG_LEVEL=DEBUG, then every read of the API and the CLI's
 * printing commands. No API key, webhook secret, credential inside a URL or
 * value of an environment variable reaches an answer, a CLI line or a log line.
 */

const SECRETS = {
  AEGIS_API_KEY: 'apikey-0f3c1d-never-shown',
  READ_KEY: 'readkey-77ab90-never-shown',
  QAAGENT_API_KEY: 'qakey-51d2e4-never-shown',
  HOOK_SECRET_NEW: 'hook-new-9a8b7c-never-shown',
  HOOK_SECRET_OLD: 'hook-old-1f2e3d-never-shown',
  URL_TOKEN: 'urltoken-c0ffee-never-shown',
  URL_PASSWORD: 'urlpass-beef01-never-shown',
  TRIGGER_SECRET: 'trigger-secret-5e6f7a-never-shown',
};

describe('no secret in any answer, CLI line or log line (SPEC §15)', () => {
  it('across a full run with signed webhooks, at LOG_LEVEL=DEBUG', async () => {
    // Prepare: services and a receiver reached through URLs that carry credentials
    const qa = await stubForTest(QA_AGENT_ROUTES);
    const bugs = await stubForTest(BUG_TRACKER_ROUTES);
    const receiver = await stubForTest({ 'POST /hook': { status: 204, raw: '' } });
    const withPassword = (url: string) =>
      url.replace('http://', `http://ci:${SECRETS.URL_PASSWORD}@`);
    const yaml = `
auth:
  api_key: "\${AEGIS_API_KEY}"
  keys: [{ name: reader, key: "\${READ_KEY}", scopes: [read] }]
  protect_reads: true
webhooks:
  - url: "${withPassword(receiver.url)}/hook?token=\${URL_TOKEN}&team=qa"
    events: ["*"]
    secret: ["\${HOOK_SECRET_NEW}", "\${HOOK_SECRET_OLD}"]
services:
  qaagent: { name: QA Agent, url: "${withPassword(qa.url)}", api_key_env: QAAGENT_API_KEY, docs_url: "${qa.url}/docs?access_token=\${URL_TOKEN}" }
  bugalizer: { name: Bug tracker, url: "${bugs.url}" }
workflows:
  full_pipeline:
    name: Full
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
      - { type: report, service: qaagent }
triggers:
  ci: { workflow: full_pipeline, source: standard, secret: "\${TRIGGER_SECRET}" }
`;
    const config = writeConfig(yaml);
    const db = await sharedDatabase('file');
    const env = { ...SECRETS, LOG_LEVEL: 'DEBUG' };
    const host = await startHostProcess(yaml, db, env);
    const answers: string[] = [];
    const call = async (path: string, init: RequestInit = {}, key: string = SECRETS.READ_KEY) => {
      const response = await fetch(`${host.url}${path}`, {
        ...init,
        headers: { 'x-api-key': key, ...init.headers },
        signal: AbortSignal.timeout(5_000),
      });
      const text = response.headers.get('content-type')?.includes('event-stream')
        ? ''
        : await response.text();
      if (text === '') await response.body?.cancel().catch(() => undefined);
      answers.push(`${path} ${response.status} ${JSON.stringify([...response.headers])} ${text}`);
      return text;
    };

    // Act: a run, its webhooks, then every read route, and a few refusals
    const run = JSON.parse(
      await call('/api/workflows/full_pipeline/run', { method: 'POST' }, SECRETS.AEGIS_API_KEY),
    ) as { run_id: string; success: boolean };
    expect(run.success).toBe(true);
    const delivered = await eventually(
      () => {
        const hooks = receiver.calls('POST /hook');
        if (hooks.length >= 6) return hooks; // started, 4 × step.completed, completed
        if (process.env.DEBUG_NO_SECRETS)
          console.log(
            host.process
              .stdout()
              .split('\n')
              .filter((l) => /webhook/i.test(l))
              .slice(-3)
              .join('\n'),
          );
        return undefined;
      },
      10_000,
      'the webhooks to arrive',
    );
    for (const path of API_ROUTES.filter((r) => r.method === 'get').map((r) =>
      r.path.replace('{name}', 'full_pipeline').replace('{run_id}', run.run_id),
    ))
      if (!path.includes('stream') && !path.includes('{')) await call(path);
    await call('/api/services/qaagent/health');
    await call('/api/history', {}, 'a-wrong-key');
    await call('/api/workflows/full_pipeline/run', { method: 'POST' }, SECRETS.READ_KEY);
    const cli = await Promise.all(
      [
        ['config', 'show'],
        ['status', '--json'],
        ['runs', 'list', '--json'],
        ['runs', 'show', run.run_id, '--json'],
        ['events', '--json'],
        ['tests', 'full_pipeline', '--json'],
        ['schedules', '--json'],
      ].map((args) =>
        runAegis([...args, '--config', config], { env: { ...env, ...db.env }, timeoutMs: 30_000 }),
      ),
    );
    await host.stop();

    // Assess: the receivers got signed, verifiable deliveries (the secrets were used)...
    const verifier = new Webhook(new TextEncoder().encode(SECRETS.HOOK_SECRET_OLD), {
      format: 'raw',
    });
    expect(() =>
      verifier.verify(delivered[0]?.body ?? '', delivered[0]?.headers as Record<string, string>),
    ).not.toThrow();
    expect(qa.calls('GET /api/routes')[0]?.headers['x-api-key']).toBe(SECRETS.QAAGENT_API_KEY);
    // ... and none of them, nor a URL's credentials, shows anywhere.
    const everything = [
      ...answers,
      ...cli.flatMap((r) => [r.stdout, r.stderr]),
      host.process.stdout(),
      host.process.stderr(),
    ].join('\n');
    expect(host.process.stdout()).toContain('"level":"DEBUG"');
    for (const [name, value] of Object.entries(SECRETS)) {
      const at = everything.indexOf(value);
      expect(
        at === -1,
        `${name} appeared: …${everything.slice(Math.max(0, at - 300), at + 50)}`,
      ).toBe(true);
    }
    expect(everything).toContain('***');
    for (const result of cli) expect(result.code, result.stderr).toBe(0);
  });
});
