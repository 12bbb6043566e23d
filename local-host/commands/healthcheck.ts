import type { Command } from 'commander';
import { send } from '#shared/http-client.ts';
import { describeTransportError } from '#shared/services/http.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, IGNORED_CONFIG_OPTION, noteConfigIgnored } from './common.ts';

export const DEFAULT_HEALTH_URL = 'http://127.0.0.1:8000/health';
const TIMEOUT_MS = 5_000;

/** Exit 0 only when `GET url` answers 200: the container's HEALTHCHECK, which has no shell or curl. */
export async function healthcheckCommand(io: CliIO, url: string): Promise<number> {
  try {
    const response = await send(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    response.discard();
    if (response.status === 200) {
      io.stdout.write(`healthy: ${url} answered 200\n`);
      return EXIT.ok;
    }
    io.stderr.write(`unhealthy: ${url} answered ${response.status}\n`);
  } catch (error) {
    io.stderr.write(`unhealthy: ${url}: ${describeTransportError(error)}\n`);
  }
  return EXIT.failure;
}

export function registerHealthcheck(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  program
    .command('healthcheck')
    .description(
      "exit 0 when the host's health endpoint answers 200, 1 otherwise (for container health checks)",
    )
    .option('--url <url>', 'the full URL of the health endpoint', DEFAULT_HEALTH_URL)
    .option(...IGNORED_CONFIG_OPTION)
    .action(async (options: { url: string } & ConfigOption) => {
      noteConfigIgnored(io, 'healthcheck', options);
      setExit(await healthcheckCommand(io, options.url));
    });
}
