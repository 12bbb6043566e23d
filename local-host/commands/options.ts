import { UserFacingError } from '#shared/errors.ts';

/**
 * The CLI's option values, read one way everywhere: decimal digits only
 * (`1e3` or ` 5` are mistakes), and an error that names the option, what it
 * takes and what was given.
 */

export function wholeNumber(
  option: string,
  value: string | undefined,
  { min, max, fallback }: { min: number; max: number; fallback: number },
): number {
  if (value === undefined) return fallback;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max))
    throw new UserFacingError(
      `${option}: expected a whole number from ${min} to ${max}, got "${value}"`,
    );
  return number;
}

/** A number of seconds greater than 0 (decimals allowed), in milliseconds. */
export function secondsAsMs(option: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const seconds = /^\d{1,9}(\.\d{1,6})?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds > 0))
    throw new UserFacingError(`${option}: expected a number of seconds > 0, got "${value}"`);
  return seconds * 1000;
}

/** One of a fixed set of values, or undefined when the option was not given. */
export function oneOf<const T extends readonly string[]>(
  option: string,
  value: string | undefined,
  values: T,
): T[number] | undefined {
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value))
    throw new UserFacingError(`${option}: expected one of ${values.join(', ')}, got "${value}"`);
  return value as T[number];
}
