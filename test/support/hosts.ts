import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import { startHranaServerProcess } from '../../infra/test-support/hrana-server-process.ts';
import { type RunningAegis, spawnAegis } from './cli-process.ts';
import { eventually } from './host.ts';
import { configFrom, tempDir, writeConfig } from './temp.ts';

/**
 * SPEC §16 and issue 18: what holds for several processes holds on a shared
 * file and on a libSQL server. Multi-process tests run once per backend.
 */
export const BACKENDS = ['file', 'libsql server'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface SharedDatabase {
  backend: Backend;
  /** What every process of the test gets to reach the database. */
  env: Record<string, string>;
  /** Stores over the same database, as one more process would open them (closed when the test ends). */
  observe(): Promise<Stores>;
}

/** A fresh database for one test: a file in a temp folder, or a Hrana test server in its own process. */
export async function sharedDatabase(backend: Backend): Promise<SharedDatabase> {
  let env: Record<string, string>;
  if (backend === 'file') {
    env = { AEGIS_DB_PATH: join(tempDir(), 'shared', 'history.db') };
  } else {
    const server = await startHranaServerProcess();
    onTestFinished(() => server.close());
    env = { AEGIS_DB_URL: server.url };
  }
  return {
    backend,
    env,
    observe: async () => {
      const stores = await openStores(configFrom('event_log_size: 10000\n', env), env);
      onTestFinished(() => stores.db.close());
      return stores;
    },
  };
}

export interface HostProcess {
  url: string;
  process: RunningAegis;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies where it stands, as on a crash or `kill -9`. */
  kill(): Promise<void>;
}

/** `aegis serve` as its own process on port 0, over the shared database; its URL read from its log. */
export async function startHostProcess(
  yaml: string,
  database: SharedDatabase,
  env: Record<string, string> = {},
): Promise<HostProcess> {
  const config = writeConfig(yaml);
  const running = spawnAegis(['serve', '--port', '0', '--config', config], {
    env: { LOG_FORMAT: 'json', ...database.env, ...env },
    timeoutMs: 120_000,
  });
  const url = await eventually(
    () => {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(running.stdout());
      if (match?.[1]) return match[1];
      if (running.child.exitCode !== null)
        throw new Error(`aegis serve exited: ${running.stderr()}${running.stdout()}`);
      return undefined;
    },
    20_000,
    'aegis serve to listen',
  );
  let ended = false;
  const host: HostProcess = {
    url,
    process: running,
    stop: async () => {
      if (!ended) running.child.kill('SIGTERM');
      ended = true;
      return running.exited;
    },
    kill: async () => {
      if (!ended) running.child.kill('SIGKILL');
      ended = true;
      await running.exited;
    },
  };
  onTestFinished(() => host.kill());
  return host;
}
