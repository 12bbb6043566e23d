import { type ConfigIssue, formatIssue } from '#shared/config/issues.ts';
import { type LoadedConfig, loadConfig } from '#shared/config/load.ts';
import { AegisContext } from '#shared/context.ts';
import { ENV, readEnv } from '#shared/env.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import type { CliIO } from '../io.ts';

export interface ConfigOption {
  config?: string;
}

export function printWarnings(
  io: CliIO,
  warnings: readonly ConfigIssue[],
  source: string | null,
): void {
  for (const warning of warnings)
    io.stderr.write(
      `warning: ${warning.path === '' && !source ? warning.message : formatIssue(warning, source)}\n`,
    );
}

/**
 * For the commands that read no configuration (healthcheck, demo-services):
 * they take `--config` like every other command, so that a wrapper or alias
 * that always passes it keeps working, and say that it changes nothing.
 */
export function noteConfigIgnored(io: CliIO, command: string, options: ConfigOption): void {
  if (options.config !== undefined)
    io.stderr.write(
      `note: ${command} reads no configuration; --config ${options.config} is ignored\n`,
    );
}

/** The `--config` option of a command that reads no configuration. */
export const IGNORED_CONFIG_OPTION = [
  '--config <file>',
  'accepted like every command, and ignored: this command reads no configuration',
] as const;

/** Loads the configuration for a command and prints its warnings on stderr. */
export function loadForCommand(
  io: CliIO,
  explicitPath: string | undefined,
  allowDefaults = false,
): LoadedConfig {
  const loaded = loadConfig({ explicitPath, env: io.env, cwd: io.cwd, allowDefaults });
  printWarnings(io, loaded.warnings, loaded.source);
  return loaded;
}

/**
 * Log lines go to stderr for every command but `serve`, so stdout stays the
 * command's answer; they default to WARN there, as a terminal user reads the
 * command's own lines, not its logs. LOG_LEVEL and LOG_FORMAT override; an
 * unknown value of either is a UserFacingError.
 */
export function commandLogger(
  io: CliIO,
  { destination = io.stderr, defaultLevel = 'WARN' } = {},
): Logger {
  return createLogger({
    destination,
    level: readEnv(io.env, ENV.logLevel) ?? defaultLevel,
    format: readEnv(io.env, ENV.logFormat),
  });
}

export function commandContext(
  io: CliIO,
  loaded: LoadedConfig,
  logger = commandLogger(io),
): AegisContext {
  return new AegisContext({
    config: loaded.config,
    configSource: loaded.source,
    env: io.env,
    logger,
  });
}

/**
 * Opens the history for one command that works on the database directly
 * (`aegis runs …`, `aegis tests`, `aegis stats`): no host needed.
 */
export async function withContext<T>(
  io: CliIO,
  options: ConfigOption,
  use: (context: AegisContext) => Promise<T>,
): Promise<T> {
  const context = commandContext(io, loadForCommand(io, options.config));
  try {
    await context.stores(); // an unusable database fails here, naming it
    return await use(context);
  } finally {
    await context.close();
  }
}
