import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { onTestFinished } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import type { AegisConfig } from '#shared/config/schema.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { openStores, type Stores } from '#shared/stores.ts';

/** A fresh directory, removed when the test ends. */
export function tempDir(prefix = 'aegis-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a config file into a fresh directory and returns its path. */
export function writeConfig(yaml: string, dir = tempDir()): string {
  const path = join(dir, '.aegis.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** A validated config from YAML, with the history in a fresh directory unless the YAML says otherwise. */
export function configFrom(
  yaml: string,
  env: Record<string, string | undefined> = {},
): AegisConfig {
  const dir = tempDir();
  return parseConfig(yaml, join(dir, '.aegis.yaml'), env, dir).config;
}

/** Stores on a fresh libSQL file, closed when the test ends. */
export async function tempStores(config: AegisConfig): Promise<Stores> {
  const stores = await openStores(config, {});
  onTestFinished(() => stores.db.close());
  return stores;
}

/** A logger whose JSON lines are collected, to assert on what is (and is not) logged. */
export function captureLogger(level = 'DEBUG'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const logger = createLogger({ destination: stream, level });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** YAML for services pointing at stubs: `{ qaagent: url, bugalizer: url }`. */
export function servicesYaml(urls: Record<string, string>): string {
  return `services:\n${Object.entries(urls)
    .map(([key, url]) => `  ${key}:\n    name: ${key}\n    url: ${url}\n`)
    .join('')}`;
}
