import { findWorkflow } from './config/lookup.ts';
import type { AegisConfig } from './config/schema.ts';
import { ENV, type Environment, readInteger, readSeconds } from './env.ts';
import { DEFAULT_MAX_STREAMS, EventFeed } from './events/event-feed.ts';
import type { Logger } from './logger.ts';
import { AegisMetrics } from './metrics/metrics.ts';
import { DEFAULT_LEASE_MS, LeaseKeeper } from './runs/lease-keeper.ts';
import type { RunTrigger } from './runs/run-queue.ts';
import { RunService } from './runs/run-service.ts';
import { Signals } from './signals.ts';
import { openStores, type Stores } from './stores.ts';
import { PACKAGE_VERSION } from './version.ts';
import type { RunObserver } from './workflow/run-workflow.ts';
import type { RunResult } from './workflow/types.ts';

/**
 * Who executes the runs this process queues: `inline`, the caller itself
 * (`aegis run`, a Lambda function, a test); `workers`, the host's pool
 * (`AEGIS_RUN_WORKERS`), which a synchronous request then waits for.
 */
export type RunExecution = 'inline' | 'workers';

export interface ContextOptions {
  config: AegisConfig;
  /** The config file, or null for the built-in defaults. */
  configSource: string | null;
  env: Environment;
  logger: Logger;
  /** How the database is opened; tests and the host may hand in their own. */
  openStores?: (config: AegisConfig, env: Environment) => Promise<Stores>;
  /** `inline` unless the host runs a worker pool. */
  runExecution?: RunExecution;
  /** What a run started through the API records as its trigger: `api`, or `lambda` on Lambda. */
  apiTrigger?: Extract<RunTrigger, 'api' | 'lambda'>;
  /** How often a running run looks for a cancel asked for by another process (tests shorten it). */
  cancelPollMs?: number;
  /** How often the event streams look for events other processes stored. */
  eventPollMs?: number;
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
  /** The wake-ups between the parts of this process (webhook worker, run workers, event stream). */
  readonly signals = new Signals();
  readonly runExecution: RunExecution;
  readonly apiTrigger: Extract<RunTrigger, 'api' | 'lambda'>;
  /** The leases of the runs this process executes. */
  readonly leases: LeaseKeeper;
  /** This process's Prometheus metrics (`GET /metrics`), in a registry of its own. */
  readonly metrics: AegisMetrics;
  /** The one poller of the events table that this process's event streams read from. */
  readonly eventFeed: EventFeed;
  readonly #openStores: (config: AegisConfig, env: Environment) => Promise<Stores>;
  /** The open stores, or the opening in progress; cleared on failure so the next request tries again. */
  #stores: Promise<Stores> | undefined;
  #runs: RunService | undefined;
  /** Listeners every run of this process gets, added by whoever owns them (the metrics). */
  readonly #runObservers: RunObserver[] = [];

  constructor(options: ContextOptions) {
    this.config = options.config;
    this.configSource = options.configSource;
    this.env = options.env;
    this.logger = options.logger;
    this.#openStores = options.openStores ?? openStores;
    this.runExecution = options.runExecution ?? 'inline';
    this.apiTrigger = options.apiTrigger ?? 'api';
    this.leases = new LeaseKeeper({
      queue: async () => (await this.stores()).queue,
      signals: this.signals,
      logger: this.logger,
      leaseMs: readSeconds(this.env, ENV.runLeaseSeconds, { min: 1 }) ?? DEFAULT_LEASE_MS,
      ...(options.cancelPollMs === undefined ? {} : { cancelPollMs: options.cancelPollMs }),
    });
    this.metrics = new AegisMetrics({
      stores: () => this.stores(),
      workflows: Object.keys(this.config.workflows),
      logger: this.logger,
    });
    this.observeRuns(this.metrics.runObserver);
    const heartbeatMs = readSeconds(this.env, ENV.eventStreamHeartbeatSeconds, { min: 0.01 });
    this.eventFeed = new EventFeed({
      events: async () => (await this.stores()).events,
      signals: this.signals,
      logger: this.logger,
      ...(options.eventPollMs === undefined ? {} : { pollMs: options.eventPollMs }),
      ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
      maxStreams: readInteger(this.env, ENV.eventStreamsMax, { min: 1 }) ?? DEFAULT_MAX_STREAMS,
    });
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

  /** The run queue's operations, over this process's database. */
  async runs(): Promise<RunService> {
    const stores = await this.stores();
    this.#runs ??= new RunService({
      config: this.config,
      env: this.env,
      logger: this.logger,
      signals: this.signals,
      leases: this.leases,
      stores,
      observers: () => this.#runObservers,
    });
    return this.#runs;
  }

  /** Gives every run of this process one more listener. */
  observeRuns(observer: RunObserver): void {
    this.#runObservers.push(observer);
  }

  /** Queues a run and executes it here, to its end: what `aegis run` and the tests do. */
  async runWorkflow(
    key: string,
    {
      observers = [],
      trigger = 'cli',
    }: { observers?: readonly RunObserver[]; trigger?: RunTrigger } = {},
  ): Promise<RunResult> {
    findWorkflow(this.config, key); // an unknown workflow is a 404 even where no database is configured
    const runs = await this.runs();
    const { runId } = await runs.start(key, { trigger });
    return runs.execute(runId, observers);
  }

  async close(): Promise<void> {
    this.leases.close();
    const stores = this.#stores;
    this.#stores = undefined;
    this.#runs = undefined;
    if (stores) (await stores.catch(() => undefined))?.db.close();
  }
}
