import { z } from 'zod';
import { RUN_STATUSES } from '../runs/run-queue.ts';

/** A decimal integer parameter with bounds (and a default), with one clear message when it is wrong. */
export function integerParam({
  min,
  max,
  fallback,
}: {
  min: number;
  max?: number;
  fallback?: number;
}) {
  const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
  const message = `must be a decimal integer ${range}`;
  let schema = z.number({ error: message }).int(message).min(min, message);
  if (max !== undefined) schema = schema.max(max, message);
  // Decimal digits only: `1e3`, `0x10`, ` 5` and an empty value are mistakes, not numbers.
  // The default inside the preprocessing, so that the OpenAPI document shows it.
  return z.preprocess(
    (value) => (typeof value === 'string' && DIGITS.test(value) ? Number(value) : value),
    fallback === undefined ? schema : schema.default(fallback),
  );
}

const DIGITS = /^\d{1,15}$/;

/** A number of seconds in (0, max], as a decimal (`wait=2.5`). */
export function secondsParam({ max }: { max: number }) {
  const message = `must be a number of seconds greater than 0 and at most ${max}`;
  return z.preprocess(
    (value) =>
      typeof value === 'string' && /^\d{1,6}(\.\d{1,6})?$/.test(value) ? Number(value) : value,
    z.number({ error: message }).gt(0, message).max(max, message),
  );
}

/** `true` or `false`, as a query parameter. */
export const booleanParam = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ error: 'must be true or false' }),
);

/** A filter that must be one of the known values; the 400 lists them. */
export function oneOfParam<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

export const limitParam = (fallback: number) => integerParam({ min: 1, max: 1000, fallback });
export const offsetParam = integerParam({ min: 0, fallback: 0 });
/** A numeric id in a path (`/api/webhooks/deliveries/{id}/redeliver`). */
export const idParam = integerParam({ min: 1 });

/** Route parameters are whatever the URL holds; unknown ones become 404s in the handlers. */
export const nameParam = z.string().min(1);

/** A page of history: `limit` (default `fallback`), `offset`, and a `status` filter (SPEC §11). */
export const historyQuery = (fallback: number) =>
  z.strictObject({
    limit: limitParam(fallback),
    offset: offsetParam,
    status: oneOfParam(RUN_STATUSES).optional(),
  });
