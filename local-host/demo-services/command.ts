import type { Command } from 'commander';
import { type Environment, readEnv } from '#shared/env.ts';
import { UserFacingError } from '#shared/errors.ts';
import { type ConfigOption, IGNORED_CONFIG_OPTION, noteConfigIgnored } from '../commands/common.ts';
import { type CliIO, EXIT } from '../io.ts';
import {
  BUG_TRACKER_PORT_OFFSET,
  DEFAULT_DEMO_HOST,
  DEFAULT_DEMO_PORT,
  DEFAULT_DEMO_WEBHOOK_SECRET,
  DEMO_ENV,
  DemoListenError,
  type DemoServices,
  MAX_DEMO_PORT,
  startDemoServices,
} from './start.ts';

interface DemoServicesCommandOptions {
  host: string;
  port: string;
}

/** Resolves with the first stop request (a signal's name); `dispose` stops listening for more. */
export interface ShutdownRequest {
  received: Promise<string>;
  dispose(): void;
}

const EXAMPLE_CONFIG = 'examples/demo.aegis.yaml';

const HELP = `
The QA agent listens on --port and the bug tracker on --port + ${BUG_TRACKER_PORT_OFFSET}: ${DEFAULT_DEMO_PORT} and
${DEFAULT_DEMO_PORT + BUG_TRACKER_PORT_OFFSET} by default, the URLs ${EXAMPLE_CONFIG} points at. --port 0 picks
two free ports. Use --host 0.0.0.0 in a container.

What they answer is fixed: a test run finds the same 2 failures of 12 every
time; a verification run passes once those failures have been reported to the
bug tracker (the demo's stand-in for "the bugs were fixed"). Reports and
webhook deliveries are kept in memory until the command stops.

Environment:
  ${DEMO_ENV.qaAgentApiKey}            when set, the QA agent's /api routes need it as X-API-Key
  ${DEMO_ENV.bugTrackerApiKey}          the same for the bug tracker
  ${DEMO_ENV.webhookSecret}  the secret webhooks must be signed with (default
                             ${DEFAULT_DEMO_WEBHOOK_SECRET}, as in ${EXAMPLE_CONFIG})

Runs until Ctrl-C (SIGINT) or SIGTERM, then exits 0.`;

export function registerDemoServices(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  program
    .command('demo-services')
    .description(
      'run a simulated QA agent and bug tracker on localhost, to try Aegis without real ones',
    )
    .option('--host <host>', 'address to listen on', DEFAULT_DEMO_HOST)
    .option(
      '--port <port>',
      `QA agent port; bug tracker on port + ${BUG_TRACKER_PORT_OFFSET}`,
      String(DEFAULT_DEMO_PORT),
    )
    .option(...IGNORED_CONFIG_OPTION)
    .addHelpText('after', HELP)
    .action(async (options: DemoServicesCommandOptions & ConfigOption) => {
      noteConfigIgnored(io, 'demo-services', options);
      setExit(await demoServicesCommand(io, options));
    });
}

/** Serves until a shutdown is requested; resolves (0) once both servers have stopped. */
export async function demoServicesCommand(
  io: CliIO,
  options: DemoServicesCommandOptions,
  requestShutdown: () => ShutdownRequest = shutdownOnSignal,
): Promise<number> {
  const port = parsePort(options.port);
  const host = options.host.trim();
  if (host === '') throw new UserFacingError('--host: expected an address, got ""');
  const shutdown = requestShutdown();
  try {
    const services = await startDemoServices({
      host,
      port,
      env: io.env,
      log: (line) => io.stdout.write(`${line}\n`),
    }).catch((error: unknown) => {
      if (error instanceof DemoListenError)
        throw new UserFacingError(
          `${error.message} (choose other ports with --port; the bug tracker uses --port + ${BUG_TRACKER_PORT_OFFSET})`,
        );
      throw error;
    });
    io.stdout.write(banner(services, host, port, io.env));
    const signal = await shutdown.received;
    io.stdout.write(`${signal}: stopping the demo services\n`);
    await services.close();
    io.stdout.write('Demo services stopped.\n');
    return EXIT.ok;
  } finally {
    shutdown.dispose();
  }
}

function parsePort(value: string): number {
  const port = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port > MAX_DEMO_PORT)
    throw new UserFacingError(
      `--port: expected an integer from 0 to ${MAX_DEMO_PORT} (the bug tracker listens on --port + ${BUG_TRACKER_PORT_OFFSET}), got "${value}"`,
    );
  return port;
}

function shutdownOnSignal(): ShutdownRequest {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let dispose = () => {};
  const received = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => resolve(signal);
    for (const signal of signals) process.on(signal, onSignal);
    dispose = () => {
      for (const signal of signals) process.off(signal, onSignal);
    };
  });
  return { received, dispose: () => dispose() };
}

function banner(services: DemoServices, host: string, port: number, env: Environment): string {
  const keyNote = (name: string) =>
    readEnv(env, name) === undefined ? 'no API key' : `X-API-Key required ($${name})`;
  const curlKey = (name: string) =>
    readEnv(env, name) === undefined ? '' : ` -H "X-API-Key: $${name}"`;
  const signing =
    readEnv(env, DEMO_ENV.webhookSecret) === undefined
      ? `signatures verified with the demo secret "${DEFAULT_DEMO_WEBHOOK_SECRET}"`
      : `signatures verified with $${DEMO_ENV.webhookSecret}`;
  const lines = [
    'Aegis demo services (simulated; state is in memory and resets on restart)',
    '',
    `  QA agent     ${services.qaAgentUrl}  service "qaagent", ${keyNote(DEMO_ENV.qaAgentApiKey)}`,
    `  bug tracker  ${services.bugTrackerUrl}  service "bugalizer", ${keyNote(DEMO_ENV.bugTrackerApiKey)}`,
    `  webhooks     ${services.webhookUrl}  (${signing})`,
  ];
  if (host === '0.0.0.0' || host === '::') lines.push('', `Listening on all interfaces (${host}).`);
  lines.push(
    '',
    `Point .aegis.yaml at them, or use ${EXAMPLE_CONFIG}; from another terminal:`,
    `  aegis status --config ${EXAMPLE_CONFIG}`,
    `  aegis run full_pipeline --config ${EXAMPLE_CONFIG}`,
    `  curl${curlKey(DEMO_ENV.bugTrackerApiKey)} ${services.bugTrackerUrl}/api/v1/reports`,
    `  curl${curlKey(DEMO_ENV.bugTrackerApiKey)} ${services.webhookUrl}`,
  );
  if (port !== DEFAULT_DEMO_PORT)
    lines.push(
      `(${EXAMPLE_CONFIG} expects ports ${DEFAULT_DEMO_PORT} and ${DEFAULT_DEMO_PORT + BUG_TRACKER_PORT_OFFSET}: copy it and change its URLs to the ones above.)`,
    );
  lines.push('', 'Press Ctrl-C to stop. Requests:', '');
  return `${lines.join('\n')}\n`;
}
