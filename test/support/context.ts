import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import { AegisContext } from '#shared/context.ts';
import { captureLogger, tempDir } from './temp.ts';

export interface TestContext {
  context: AegisContext;
  /** The JSON log lines written so far. */
  logs: () => Record<string, unknown>[];
  logText: () => string;
  dir: string;
}

/**
 * An AegisContext over a config written as YAML, with its history in a fresh
 * libSQL file and its logs captured; closed when the test ends.
 */
export function testContext(
  yaml: string,
  env: Record<string, string | undefined> = {},
): TestContext {
  const dir = tempDir();
  const source = join(dir, '.aegis.yaml');
  writeFileSync(source, yaml);
  const { config } = parseConfig(yaml, source, env, dir);
  const { logger, lines, text } = captureLogger('INFO');
  const context = new AegisContext({ config, configSource: source, env, logger });
  onTestFinished(() => context.close());
  return { context, logs: lines, logText: text, dir };
}
