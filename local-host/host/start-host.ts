import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_ROUTES } from '#functions/index.ts';
import type { AegisContext } from '#shared/context.ts';
import { describeTarget, resolveDatabaseTarget } from '#shared/db/target.ts';
import { ENV, readInteger, readSeconds } from '#shared/env.ts';
import { PrebuiltAnswers } from '#shared/http-api/prebuilt-answers.ts';
import { schedulesOf } from '#shared/schedules/workflow-schedule.ts';
import type { RetryPolicy } from '#shared/webhooks/retry-policy.ts';
import { DeliveryWorker } from '#shared/webhooks/worker.ts';
import { answerFirst } from './answer-first.ts';
import { createHost } from './create-host.ts';
import { directRoutes } from './direct-routes.ts';
import { oneRequestPerTurn } from './one-per-turn.ts';
import { DEFAULT_RUN_WORKERS, RunWorkers } from './run-workers.ts';
import { Scheduler } from './scheduler.ts';

export interface HostOptions {
  context: AegisContext;
  host: string;
  port: number;
  /** Test hooks for the webhook worker. */
  retryPolicy?: RetryPolicy;
  workerIdleIntervalMs?: number;
  /** How often the run workers look for runs other processes queued, and reconcile the queue. */
  runPollMs?: number;
  reconcileMs?: number;
  /** Slow clients: the whole header block within this, the whole request within `requestTimeoutMs`. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface RunningHost {
  url: string;
  server: Server;
  /**
   * Stops accepting, lets running runs finish for up to the shutdown grace
   * (`AEGIS_SHUTDOWN_GRACE`, or `graceMs`) then stops them, finishes in-flight
   * requests, stops the webhook worker and closes the database.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** SPEC §11: `AEGIS_SHUTDOWN_GRACE` defaults to 10 s. */
export const DEFAULT_GRACE_MS = 10_000;
/** A client that sends its headers slowly is cut off after this (Node's default holds it for a minute). */
const HEADERS_TIMEOUT_MS = 10_000;
/** …and a request body that trickles in, after this. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Starts the local host: opens the history first (a path that cannot be
 * written stops here, naming the path), reconciles runs whose worker died
 * (only expired leases: another live host's runs are never touched), starts
 * the run workers, the schedule loop and the webhook worker, then listens.
 */
export async function startHost({
  context,
  host,
  port,
  retryPolicy,
  workerIdleIntervalMs,
  runPollMs,
  reconcileMs,
  headersTimeoutMs = HEADERS_TIMEOUT_MS,
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
}: HostOptions): Promise<RunningHost> {
  const { logger, config, env } = context;
  const workerCount = readInteger(env, ENV.runWorkers, { min: 0, max: 64 }) ?? DEFAULT_RUN_WORKERS;
  const defaultGraceMs = readSeconds(env, ENV.shutdownGraceSeconds) ?? DEFAULT_GRACE_MS;
  await context.stores();
  const runs = await context.runs();
  await runs.reconcile();

  const deliveries = new DeliveryWorker({
    outbox: async () => (await context.stores()).outbox,
    webhooks: config.webhooks,
    logger,
    onAttempt: (outcome) => context.metrics.deliveryAttempted(outcome),
    ...(retryPolicy ? { policy: retryPolicy } : {}),
    ...(workerIdleIntervalMs ? { idleIntervalMs: workerIdleIntervalMs } : {}),
  });
  const stopWaking = context.signals.on('deliveriesQueued', () => deliveries.wake());
  deliveries.start();
  const workers = new RunWorkers({
    runs,
    leases: context.leases,
    signals: context.signals,
    logger,
    size: workerCount,
    ...(runPollMs ? { pollMs: runPollMs } : {}),
    ...(reconcileMs ? { reconcileMs } : {}),
  });
  workers.start();
  const scheduler = new Scheduler({
    schedules: schedulesOf(config),
    runs,
    db: (await context.stores()).db,
    logger,
  });
  await scheduler.start();

  const answers = new PrebuiltAnswers();
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node looks for overdue requests this often (30 s by default, which would stretch both timeouts).
      connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
      // Longer than a typical proxy's idle timeout, so a proxy never reuses a socket the host is closing.
      keepAliveTimeout: 65_000,
    },
    // Answers built once are sent at once; the rest start one per turn, so a new connection is not
    // kept waiting, and the history's reads run without Express.
    answerFirst(
      context,
      answers,
      oneRequestPerTurn(directRoutes(context, API_ROUTES, createHost(context, { answers }))),
    ),
  );
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await scheduler.stop();
    await workers.stop({ graceMs: 0 });
    await deliveries.stop();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info(`Aegis listening on ${url} (dashboard at /, API description at /openapi.json)`, {
    url,
    config: context.configSource ?? 'built-in defaults',
    database: describeTarget(resolveDatabaseTarget(config.history_db_path, env)),
    services: Object.keys(config.services).length,
    workflows: Object.keys(config.workflows).length,
    webhooks: config.webhooks.length,
    run_workers: workerCount,
  });

  let closing: Promise<void> | undefined;
  const close = ({ graceMs = defaultGraceMs } = {}) => {
    closing ??= (async () => {
      const closed = once(server, 'close');
      server.close();
      context.signals.emit('shuttingDown');
      // Keep-alive sockets go idle as their last response ends: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      await scheduler.stop();
      await workers.stop({ graceMs });
      // The runs have ended, so requests waiting for them have their answers: the rest get a moment more.
      const cutOff = setTimeout(() => server.closeAllConnections(), 1_000);
      await closed;
      clearInterval(sweep);
      clearTimeout(cutOff);
      stopWaking();
      await deliveries.stop({ graceMs: 1_000 });
      await context.close();
      logger.info('Aegis stopped');
    })();
    return closing;
  };
  return { url, server, close };
}
