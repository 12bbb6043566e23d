import type { AegisConfig } from './config/schema.ts';
import type { Environment } from './env.ts';
import type { Logger } from './logger.ts';
import { executeRun, findWorkflow } from './runs/execute-run.ts';
import { openStores, type Stores } from './stores.ts';
import { PACKAGE_VERSION } from './version.ts';
import type { RunObserver } from './workflow/run-workflow.ts';
import type { RunResult } from './workflow/types.ts';

export interface ContextOptions {
  config: AegisConfig;
  /** The config file, or null for the built-in defaults. */
  configSource: string | null;
  env: Environment;
  logger: Logger;
  /** How the database is opened; tests and the host may hand in their own. */
  openStores?: (config: AegisConfig, env: Environment) => Promise<Stores>;
}

/**
 * What every function and command depends on, built once per process (at
 * cold start on Lambda, once for the whole host locally) and handed in, never
 * read from module state. The database opens on first use, so a function that
 * does not need it works with none configured.
 */
export class AegisContext {
  readonly config: AegisConfig;
  readonly configSource: string | null;
  readonly env: Environment;
  readonly logger: Logger;
  readonly version = PACKAGE_VERSION;
  /** For `uptime_seconds`. */
  readonly startedAt = performance.now();
  /** Set by the host to wake its webhook worker; a no-op elsewhere (Lambda drains on a schedule). */
  onDeliveriesQueued: (runId: string) => void = () => {};
  readonly #openStores: (config: AegisConfig, env: Environment) => Promise<Stores>;
  /** The open stores, or the opening in progress; cleared on failure so the next request tries again. */
  #stores: Promise<Stores> | undefined;

  constructor(options: ContextOptions) {
    this.config = options.config;
    this.configSource = options.configSource;
    this.env = options.env;
    this.logger = options.logger;
    this.#openStores = options.openStores ?? openStores;
  }

  stores(): Promise<Stores> {
    if (!this.#stores) {
      this.#stores = this.#openStores(this.config, this.env);
      this.#stores.catch(() => {
        this.#stores = undefined;
      });
    }
    return this.#stores;
  }

  async runWorkflow(key: string, observers: readonly RunObserver[] = []): Promise<RunResult> {
    findWorkflow(this.config, key); // an unknown workflow is a 404 even where no database is configured
    return executeRun(key, {
      config: this.config,
      env: this.env,
      stores: await this.stores(),
      logger: this.logger,
      observers,
      onDeliveriesQueued: (runId) => this.onDeliveriesQueued(runId),
    });
  }

  async close(): Promise<void> {
    const stores = this.#stores;
    this.#stores = undefined;
    if (stores) (await stores.catch(() => undefined))?.db.close();
  }
}
