import type { Command } from 'commander';
import { checkAllServices, DEFAULT_HEALTH_TIMEOUT_MS } from '#shared/services/health.ts';
import { serviceListing } from '#shared/services/listing.ts';
import { formatDuration, table } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, loadForCommand } from './common.ts';
import { secondsAsMs } from './options.ts';

interface StatusOptions extends ConfigOption {
  timeout?: string;
  json?: boolean;
}

export async function statusCommand(io: CliIO, options: StatusOptions): Promise<number> {
  const timeoutMs = secondsAsMs('--timeout', options.timeout, DEFAULT_HEALTH_TIMEOUT_MS);
  const { config } = loadForCommand(io, options.config);
  const health = await checkAllServices(config.services, { env: io.env, timeoutMs });
  const healthy = health.every((h) => h.healthy);
  const listing = serviceListing(config.services, health);
  if (options.json) {
    io.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
    return healthy ? EXIT.ok : EXIT.failure;
  }
  if (listing.length === 0) {
    io.stdout.write('No services are configured.\n');
    return EXIT.ok;
  }
  const rows = listing.map((s) => [
    s.key,
    s.name,
    s.url,
    s.status,
    formatDuration(s.latency_ms),
    s.error ?? '',
  ]);
  io.stdout.write(`${table(['SERVICE', 'NAME', 'URL', 'STATUS', 'LATENCY', 'ERROR'], rows)}\n`);
  const down = health.filter((h) => !h.healthy).length;
  const verdict = healthy
    ? `${health.length === 1 ? 'The service is' : `All ${health.length} services are`} healthy.`
    : `${down} of ${health.length} ${down === 1 ? 'is' : 'are'} not healthy.`;
  io.stdout.write(`\n${verdict}\n`);
  return healthy ? EXIT.ok : EXIT.failure;
}

export function registerStatus(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('status')
    .description("check every service's health at once and print a table")
    .option(
      '--config <file>',
      'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml)',
    )
    .option(
      '--timeout <seconds>',
      `how long to wait for each service (default: ${DEFAULT_HEALTH_TIMEOUT_MS / 1000})`,
    )
    .option('--json', 'print the /api/services array as JSON instead of the table')
    .addHelpText('after', '\nExit status: 0 when every service is healthy, 1 otherwise.')
    .action(async (options: StatusOptions) => setExit(await statusCommand(io, options)));
}
