import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AegisContext } from '#shared/context.ts';
import { describeTarget, resolveDatabaseTarget } from '#shared/db/target.ts';
import type { RetryPolicy } from '#shared/webhooks/retry-policy.ts';
import { DeliveryWorker } from '#shared/webhooks/worker.ts';
import { createHost } from './create-host.ts';
import { answerHealthFirst } from './health-first.ts';

export interface HostOptions {
  context: AegisContext;
  host: string;
  port: number;
  /** Test hooks for the webhook worker. */
  retryPolicy?: RetryPolicy;
  workerIdleIntervalMs?: number;
}

export interface RunningHost {
  url: string;
  server: Server;
  /** Stop accepting, finish in-flight requests (cut off after `graceMs`), stop the worker, close the database. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** SPEC §10: `docker stop` allows 10 s; in-flight work gets most of it. */
export const DEFAULT_GRACE_MS = 8_000;

/**
 * Starts the local host: opens the history first (a path that cannot be
 * written stops here, naming the path), marks runs a dead process left
 * `running` as `interrupted`, starts the webhook worker, then listens.
 */
export async function startHost({
  context,
  host,
  port,
  retryPolicy,
  workerIdleIntervalMs,
}: HostOptions): Promise<RunningHost> {
  const { logger, config } = context;
  const stores = await context.stores();
  const interrupted = await stores.history.markInterrupted();
  if (interrupted > 0)
    logger.warn('marked runs left running by a previous process as interrupted', {
      runs: interrupted,
    });

  const worker = new DeliveryWorker({
    outbox: async () => (await context.stores()).outbox,
    webhooks: config.webhooks,
    logger,
    ...(retryPolicy ? { policy: retryPolicy } : {}),
    ...(workerIdleIntervalMs ? { idleIntervalMs: workerIdleIntervalMs } : {}),
  });
  context.onDeliveriesQueued = () => worker.wake();
  worker.start();

  const server = createServer(answerHealthFirst(context, createHost(context)));
  // Longer than a typical proxy's idle timeout, so a proxy never reuses a socket the host is closing.
  server.keepAliveTimeout = 65_000;
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await worker.stop();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info(`Aegis listening on ${url} (dashboard at /, API description at /openapi.json)`, {
    url,
    config: context.configSource ?? 'built-in defaults',
    database: describeTarget(resolveDatabaseTarget(config.history_db_path, context.env)),
    services: Object.keys(config.services).length,
    workflows: Object.keys(config.workflows).length,
    webhooks: config.webhooks.length,
  });

  let closing: Promise<void> | undefined;
  const close = ({ graceMs = DEFAULT_GRACE_MS } = {}) => {
    closing ??= (async () => {
      const deadline = Date.now() + graceMs;
      const closed = once(server, 'close');
      server.close();
      // Keep-alive sockets go idle as their last response ends: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const cutOff = setTimeout(() => server.closeAllConnections(), graceMs);
      server.closeIdleConnections();
      await closed;
      clearInterval(sweep);
      clearTimeout(cutOff);
      await worker.stop({ graceMs: Math.max(1_000, deadline - Date.now()) });
      await context.close();
      logger.info('Aegis stopped');
    })();
    return closing;
  };
  return { url, server, close };
}
