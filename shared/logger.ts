import type { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { ENV, type Environment, readEnv } from './env.ts';
import { UserFacingError } from './errors.ts';
import { redactUrlsIn } from './redact.ts';

export type { Logger } from '@aws-lambda-powertools/logger';

/** Keys whose values never reach a log line, whatever object they sit in. */
const SECRET_KEYS = new Set([
  'api_key',
  'apikey',
  'x-api-key',
  'secret',
  'authorization',
  'auth_token',
  'token',
  'password',
]);

/** Every string of a log line: a secret key's value hidden, credentials in any URL masked (SPEC §15). */
function redactSecrets(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (SECRET_KEYS.has(key.toLowerCase())) return '***';
  return redactUrlsIn(value);
}

/** The levels LOG_LEVEL takes, in any case. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The formats LOG_FORMAT takes; unset, it is `pretty` on a terminal and `json` otherwise. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** LOG_LEVEL's value as a level; an unknown one is an error naming the valid ones. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === '') return undefined;
  const level = LOG_LEVELS.find((known) => known === value.trim().toUpperCase());
  if (level) return level;
  throw new UserFacingError(
    `${ENV.logLevel} is "${value}", which is not a log level (valid, in any case: ${LOG_LEVELS.join(', ')})`,
  );
}

/** LOG_FORMAT's value as a format; an unknown one is an error naming the valid ones. */
export function parseLogFormat(value: string | undefined): LogFormat | undefined {
  if (value === undefined || value === '') return undefined;
  const format = LOG_FORMATS.find((known) => known === value.trim().toLowerCase());
  if (format) return format;
  throw new UserFacingError(
    `${ENV.logFormat} is "${value}", which is not a log format (valid: ${LOG_FORMATS.join(', ')}; unset: pretty on a terminal, json otherwise)`,
  );
}

/** Checks LOG_LEVEL and LOG_FORMAT up front, so that a typo stops every command at once. */
export function checkLogSettings(env: Environment): void {
  parseLogLevel(readEnv(env, ENV.logLevel));
  parseLogFormat(readEnv(env, ENV.logFormat));
}

/**
 * One line for a person at a terminal: time, level, message, then the
 * other keys as key=value, without the two that never vary here (the
 * service, always aegis, and Powertools' debug sampling rate, 0 unless set).
 */
function prettyLine(attributes: Record<string, unknown>): string {
  const { timestamp, level, message, service: _service, ...rest } = attributes;
  if (rest.sampling_rate === 0) delete rest.sampling_rate;
  const time = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(String(timestamp))?.[1] ?? String(timestamp);
  const pairs = Object.entries(rest).map(([key, value]) => `${key}=${prettyValue(value)}`);
  return [time, String(level).padEnd(5), String(message ?? ''), ...pairs].join(' ');
}

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/**
 * Powertools' logger, writing to a stream of our choosing: stdout for the host
 * and Lambda, stderr for CLI commands whose stdout carries their answer, and a
 * buffer in tests; as JSON lines, or pretty ones for a terminal.
 */
class StreamLogger extends Logger {
  /** Where each line goes; Powertools itself only knows the process console. */
  readonly #destination: Writable;
  /** JSON for machines (the container, Lambda, pipes); one readable line per entry for a terminal. */
  readonly #format: LogFormat;

  constructor(destination: Writable, format: LogFormat, options: ConstructorOptions) {
    super(options);
    this.#destination = destination;
    this.#format = format;
  }

  protected override printLog(...[_logLevel, log]: Parameters<Logger['printLog']>): void {
    log.prepareForPrint();
    const json = JSON.stringify(log.getAttributes(), this.getJsonReplacer());
    // Through the JSON, so a pretty line is redacted exactly as a JSON one.
    const line = this.#format === 'json' ? json : prettyLine(JSON.parse(json));
    this.#destination.write(`${line}\n`);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new StreamLogger(this.#destination, this.#format, {
      ...options,
      jsonReplacerFn: redactSecrets,
    });
  }
}

export interface LoggerOptions {
  /** Where the lines go. */
  destination?: Writable;
  /** DEBUG, INFO, WARN, ERROR, SILENT, in any case; LOG_LEVEL when omitted. */
  level?: string | undefined;
  /** pretty or json; when omitted, pretty if the destination is a terminal. */
  format?: string | undefined;
}

/** Throws a UserFacingError naming the valid values when `level` or `format` is unknown. */
export function createLogger({
  destination = process.stdout,
  level,
  format,
}: LoggerOptions = {}): Logger {
  const options: ConstructorOptions = { serviceName: 'aegis', jsonReplacerFn: redactSecrets };
  const logLevel = parseLogLevel(level);
  if (logLevel) options.logLevel = logLevel;
  const isTerminal = (destination as { isTTY?: boolean }).isTTY === true;
  return new StreamLogger(
    destination,
    parseLogFormat(format) ?? (isTerminal ? 'pretty' : 'json'),
    options,
  );
}
