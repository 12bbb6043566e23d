import type { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
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

/**
 * Powertools' logger, writing to a stream of our choosing: stdout for the host
 * and Lambda, stderr for CLI commands whose stdout carries their answer, and a
 * buffer in tests.
 */
class StreamLogger extends Logger {
  /** Where each JSON line goes; Powertools itself only knows the process console. */
  readonly #destination: Writable;

  constructor(destination: Writable, options: ConstructorOptions) {
    super(options);
    this.#destination = destination;
  }

  protected override printLog(...[_logLevel, log]: Parameters<Logger['printLog']>): void {
    log.prepareForPrint();
    this.#destination.write(`${JSON.stringify(log.getAttributes(), this.getJsonReplacer())}\n`);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new StreamLogger(this.#destination, { ...options, jsonReplacerFn: redactSecrets });
  }
}

export interface LoggerOptions {
  /** Where the JSON lines go. */
  destination?: Writable;
  /** DEBUG, INFO, WARN, ERROR, SILENT; LOG_LEVEL when omitted. */
  level?: string | undefined;
}

export function createLogger({ destination = process.stdout, level }: LoggerOptions = {}): Logger {
  const options: ConstructorOptions = { serviceName: 'aegis', jsonReplacerFn: redactSecrets };
  if (level) options.logLevel = level.toUpperCase() as NonNullable<ConstructorOptions['logLevel']>;
  return new StreamLogger(destination, options);
}
