import { UserFacingError } from './errors.ts';

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
  /** How many runs one host executes at once (0: none, the API only). */
  runWorkers: 'AEGIS_RUN_WORKERS',
  /** Seconds a run's lease lasts before another process may reclaim it. */
  runLeaseSeconds: 'AEGIS_RUN_LEASE_S',
  /** Seconds a stopping host gives its running runs before it cancels them. */
  shutdownGraceSeconds: 'AEGIS_SHUTDOWN_GRACE',
  /** How many event streams (`GET /api/events/stream`) one process holds open at once. */
  eventStreamsMax: 'AEGIS_EVENT_STREAMS_MAX',
  /** Seconds between the keep-alive comments of an event stream. */
  eventStreamHeartbeatSeconds: 'AEGIS_EVENT_STREAM_HEARTBEAT_S',
} as const;

export type Environment = Readonly<Record<string, string | undefined>>;

/** A variable's value, or undefined when it is unset or empty. */
export function readEnv(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A whole number from a variable, or undefined when unset; anything else stops with the variable's name. */
export function readInteger(
  env: Environment,
  name: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number | undefined {
  const value = readEnv(env, name);
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max)
    throw new UserFacingError(
      `${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${value}"`,
    );
  return number;
}

/** A duration in seconds from a variable, as milliseconds; undefined when unset. */
export function readSeconds(
  env: Environment,
  name: string,
  { min = 0 }: { min?: number } = {},
): number | undefined {
  const value = readEnv(env, name);
  if (value === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < min)
    throw new UserFacingError(`${name} must be a number of seconds ≥ ${min}, got "${value}"`);
  return Math.round(seconds * 1000);
}
