import { z } from 'zod';

/** An integer query parameter with bounds and a default, with one clear message when it is wrong. */
export function integerParam({
  min,
  max,
  fallback,
}: {
  min: number;
  max?: number;
  fallback: number;
}) {
  const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
  const message = `must be an integer ${range}`;
  let schema = z.coerce.number({ error: message }).int(message).min(min, message);
  if (max !== undefined) schema = schema.max(max, message);
  return schema.default(fallback);
}

/** A filter that must be one of the known values; the 400 lists them. */
export function oneOfParam<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

export const limitParam = (fallback: number) => integerParam({ min: 1, max: 1000, fallback });
export const offsetParam = integerParam({ min: 0, fallback: 0 });

/** Route parameters are whatever the URL holds; unknown ones become 404s in the handlers. */
export const nameParam = z.string().min(1);
