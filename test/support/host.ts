import { onTestFinished } from 'vitest';
import { type HostOptions, type RunningHost, startHost } from '#local-host/host/start-host.ts';
import { type TestContext, testContext } from './context.ts';

export interface TestHost extends TestContext {
  host: RunningHost;
  url: string;
}

/** The real local host on an ephemeral port of 127.0.0.1 over a fresh database; closed when the test ends. */
export async function startTestHost(
  yaml: string,
  options: { env?: Record<string, string | undefined> } & Partial<
    Omit<HostOptions, 'context'>
  > = {},
): Promise<TestHost> {
  const { env, ...hostOptions } = options;
  const test = testContext(yaml, env);
  const host = await startHost({
    context: test.context,
    host: '127.0.0.1',
    port: 0,
    ...hostOptions,
  });
  onTestFinished(() => host.close({ graceMs: 1_000 }));
  return { ...test, host, url: host.url };
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
