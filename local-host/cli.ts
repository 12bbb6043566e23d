import { Command, CommanderError } from 'commander';
import { ConfigError } from '#shared/config/issues.ts';
import { errorMessage, HttpError, UserFacingError } from '#shared/errors.ts';
import { checkLogSettings } from '#shared/logger.ts';
import { PACKAGE_VERSION } from '#shared/version.ts';
import { registerConfig } from './commands/config.ts';
import { registerEvents } from './commands/events.ts';
import { registerHealthcheck } from './commands/healthcheck.ts';
import { registerInit } from './commands/init.ts';
import { registerInsight } from './commands/insight.ts';
import { registerInvoke } from './commands/invoke.ts';
import { registerRun } from './commands/run.ts';
import { registerRuns } from './commands/runs.ts';
import { registerSchedules } from './commands/schedules.ts';
import { registerServe } from './commands/serve.ts';
import { registerStatus } from './commands/status.ts';
import { registerDemoServices } from './demo-services/index.ts';
import { type CliIO, EXIT } from './io.ts';

const DESCRIPTION = `Aegis: a control plane for HTTP-based QA services.

Reads services and workflows from .aegis.yaml (--config, then $AEGIS_CONFIG,
then the nearest .aegis.yaml upwards), checks the services' health, runs
workflows, records every run in libSQL and sends events to signed webhooks.`;

/** Every command writes help and usage errors to the given streams and returns instead of exiting. */
function routeOutput(command: Command, io: CliIO): void {
  command
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const sub of command.commands) routeOutput(sub, io);
}

/** Runs the `aegis` command line and resolves to its exit status; never throws. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('aegis')
    .description(DESCRIPTION)
    .version(PACKAGE_VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)');
  program.addHelpText('after', '\nRun `aegis <command> --help` for the options of a command.');
  // A mistyped LOG_LEVEL or LOG_FORMAT stops every command, also those that log nothing yet.
  program.hook('preAction', () => checkLogSettings(io.env));
  registerInit(program, io, setExit);
  registerServe(program, io, setExit);
  registerRun(program, io, setExit);
  registerRuns(program, io, setExit);
  registerSchedules(program, io, setExit);
  registerEvents(program, io, setExit);
  registerInsight(program, io, setExit);
  registerStatus(program, io, setExit);
  registerConfig(program, io, setExit);
  registerHealthcheck(program, io, setExit);
  registerInvoke(program, io, setExit);
  registerDemoServices(program, io, setExit);
  routeOutput(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors were already printed.
    return error.exitCode === 0 ? EXIT.ok : EXIT.failure;
  }
  if (
    error instanceof ConfigError ||
    error instanceof UserFacingError ||
    error instanceof HttpError
  ) {
    io.stderr.write(`aegis: ${error.message}\n`);
    return EXIT.failure;
  }
  io.stderr.write(`aegis: unexpected error: ${errorMessage(error)}\n`);
  return EXIT.failure;
}
