import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ENV, type Environment, readEnv } from '../env.ts';
import { errorMessage, UserFacingError } from '../errors.ts';
import { analyzeConfig, type ConfigReport } from './analyze.ts';
import { ConfigError, type ConfigIssue } from './issues.ts';
import { describeSearch, type LocateOptions, locateConfig } from './locate.ts';
import { type AegisConfig, defaultConfig } from './schema.ts';

export interface LoadedConfig {
  config: AegisConfig;
  /** The file it came from; null for the built-in defaults. */
  source: string | null;
  warnings: ConfigIssue[];
}

export interface LoadOptions extends LocateOptions {
  /** With no file found: start on the defaults (serve, invoke) instead of failing (run, status, config). */
  allowDefaults?: boolean;
}

export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : errorMessage(error);
    throw new UserFacingError(`cannot read config file ${path}: ${why}`);
  }
}

/** Analyses a text as if it were the file at `source`; throws ConfigError listing every error. */
export function parseConfig(
  text: string,
  source: string | null,
  env: Environment,
  cwd: string,
): LoadedConfig {
  const report: ConfigReport = analyzeConfig(text, env);
  if (!report.config) throw new ConfigError(source, report.errors);
  return {
    config: applyOverrides(report.config, source, env, cwd),
    source,
    warnings: report.warnings,
  };
}

/** Finds, reads, interpolates and validates the configuration (SPEC §1). */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const location = locateConfig(options);
  if (location.path === null) {
    if (!options.allowDefaults) throw new UserFacingError(describeSearch(location));
    const warning: ConfigIssue = {
      check: 'yaml',
      path: '',
      message: `${describeSearch(location)}: using built-in defaults`,
    };
    return {
      config: applyOverrides(defaultConfig(), null, options.env, options.cwd),
      source: null,
      warnings: [warning],
    };
  }
  return parseConfig(readConfigText(location.path), location.path, options.env, options.cwd);
}

/**
 * `AEGIS_DB_PATH` replaces `history_db_path`; a relative `history_db_path`
 * from the file is taken relative to the file, so every command run below the
 * project shares one history whatever its working directory.
 */
function applyOverrides(
  config: AegisConfig,
  source: string | null,
  env: Environment,
  cwd: string,
): AegisConfig {
  const override = readEnv(env, ENV.dbPath);
  const base = override !== undefined || source === null ? cwd : dirname(source);
  const path = override ?? config.history_db_path;
  return { ...config, history_db_path: isAbsolute(path) ? path : resolve(base, path) };
}
