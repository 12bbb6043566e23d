import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { AegisContext } from '#shared/context.ts';
import { UserFacingError } from '#shared/errors.ts';
import { ApiKeys } from '#shared/http-api/auth.ts';
import { startHost } from '../host/start-host.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandLogger, loadForCommand } from './common.ts';

interface ServeOptions extends ConfigOption {
  host: string;
  port: string;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UserFacingError(`--port: expected a port number from 0 to 65535, got "${value}"`);
  return port;
}

/** SPEC §15: the API is reachable from this machine only, unless `--host` says otherwise. */
export const DEFAULT_HOST = '127.0.0.1';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * A long-running host under steady load lets V8 grow its heap far beyond
 * what it uses (bench/README.md); this heuristic keeps it close, for a few
 * per cent of CPU. Set here rather than on node's command line, where it
 * would also shrink the young generation and lengthen the tail under load
 * (infra/node-flags.mjs).
 */
function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size');
}

/** Serves until SIGTERM or SIGINT, then shuts down gracefully and resolves to 0 (SPEC §7). */
export async function serveCommand(
  io: CliIO,
  options: ServeOptions,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const port = parsePort(options.port);
  const loaded = loadForCommand(io, options.config, true);
  preferSmallHeap();
  const logger = commandLogger(io, { destination: io.stdout, defaultLevel: 'INFO' });
  const context = new AegisContext({
    config: loaded.config,
    configSource: loaded.source,
    env: io.env,
    logger,
    runExecution: 'workers',
  });
  if (!ApiKeys.fromConfig(loaded.config.auth).enabled && !LOOPBACK.has(options.host)) {
    logger.warn(
      `auth is off and the host listens on ${options.host}: anyone who can reach port ${port} can read every result and run workflows; set auth.keys (or auth.api_key) to require X-API-Key, and auth.protect_reads: true to require it for reads too`,
    );
  }
  let running: Awaited<ReturnType<typeof startHost>>;
  try {
    running = await startHost({ context, host: options.host, port });
  } catch (error) {
    await context.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UserFacingError(
        `port ${port} on ${options.host} is already in use (choose another with --port)`,
      );
    if (code === 'EACCES')
      throw new UserFacingError(
        `not allowed to listen on ${options.host}:${port} (ports below 1024 need privileges)`,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new UserFacingError(`cannot listen on ${options.host}: no such local address`);
    throw error;
  }
  const signal = await new Promise<string>((resolve) => {
    signals.once('SIGTERM', () => resolve('SIGTERM'));
    signals.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info(
    `received ${signal}: no new runs are claimed; running runs get the shutdown grace, then in-flight requests and webhook attempts finish`,
  );
  await running.close();
  return EXIT.ok;
}

export function registerServe(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description(
      'run the local host: every API function on one port, the dashboard at /, the webhook worker',
    )
    .option(
      '--host <address>',
      'address to listen on; 0.0.0.0 for every interface (set auth.keys first)',
      DEFAULT_HOST,
    )
    .option('--port <number>', 'port to listen on', '8000')
    .option(
      '--config <file>',
      'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml; none: built-in defaults)',
    )
    .addHelpText(
      'after',
      `
Logs go to stdout: JSON lines, or readable ones on a terminal (LOG_LEVEL sets
the level, LOG_FORMAT=json|pretty the format). The history is the
libSQL file at history_db_path, or $AEGIS_DB_PATH, or the server at $AEGIS_DB_URL.
SIGTERM or SIGINT stops it gracefully (exit 0).

It listens on ${DEFAULT_HOST} (this machine only) unless --host says otherwise.
Before listening on another address, configure auth.keys (or auth.api_key) and,
to protect reads too, auth.protect_reads: true; see README "Security".`,
    )
    .action(async (options: ServeOptions) => setExit(await serveCommand(io, options)));
}
