/**
 * The environment variables Aegis reads, in one place, so that nothing else
 * touches `process.env` for its own settings (config interpolation aside,
 * which reads whatever variable the YAML names).
 */
export const ENV = {
  config: 'AEGIS_CONFIG',
  dbPath: 'AEGIS_DB_PATH',
  dbUrl: 'AEGIS_DB_URL',
  dbAuthToken: 'AEGIS_DB_AUTH_TOKEN',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
} as const;

export type Environment = Readonly<Record<string, string | undefined>>;

/** A variable's value, or undefined when it is unset or empty. */
export function readEnv(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
