import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ENV, type Environment, readEnv } from '../env.ts';
import { UserFacingError } from '../errors.ts';

export const CONFIG_FILE_NAME = '.aegis.yaml';

export interface ConfigLocation {
  /** Absolute path of the file to read, or null when none was found. */
  path: string | null;
  /** Where the path came from, for messages. */
  origin: 'option' | 'environment' | 'search' | 'none';
  /** The directories searched, nearest first, when no file was named. */
  searched: string[];
}

export interface LocateOptions {
  /** `--config` / `--path`, as typed. */
  explicitPath?: string | undefined;
  /** The option that named `explicitPath`, for messages (default `--config`). */
  explicitOption?: string | undefined;
  env: Environment;
  cwd: string;
}

/**
 * SPEC §1's discovery order: `--config`, then `AEGIS_CONFIG`, then the nearest
 * `.aegis.yaml` in the current directory or a parent. A named file that does
 * not exist is always an error.
 */
export function locateConfig({
  explicitPath,
  explicitOption = '--config',
  env,
  cwd,
}: LocateOptions): ConfigLocation {
  const fromEnv = readEnv(env, ENV.config);
  if (explicitPath !== undefined || fromEnv !== undefined) {
    const origin = explicitPath !== undefined ? 'option' : 'environment';
    const path = resolve(cwd, explicitPath ?? fromEnv ?? '');
    const from = origin === 'option' ? explicitOption : ENV.config;
    if (!existsSync(path))
      throw new UserFacingError(`config file not found: ${path} (named by ${from})`);
    if (statSync(path).isDirectory())
      throw new UserFacingError(
        `config file ${path} (named by ${from}) is a directory: name the YAML file in it`,
      );
    return { path, origin, searched: [] };
  }
  const searched: string[] = [];
  let dir = resolve(cwd);
  for (;;) {
    searched.push(dir);
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate) && statSync(candidate).isFile())
      return { path: candidate, origin: 'search', searched };
    const parent = dirname(dir);
    if (parent === dir) return { path: null, origin: 'none', searched };
    dir = parent;
  }
}

export function describeSearch(location: ConfigLocation): string {
  const first = location.searched[0] ?? '.';
  return `no ${CONFIG_FILE_NAME} found in ${first} or any parent directory; pass --config FILE or set ${ENV.config}`;
}
