import type { z } from 'zod';
import { BadRequestError } from '../errors.ts';

export type InputPart = 'path parameter' | 'query parameter' | 'body';

/**
 * Parses one part of a request; a failure is a 400 that says which
 * parameter is wrong and why (`query parameter 'limit': must be an integer from 1 to 1000, got "abc"`).
 */
export function parseInput<T extends z.ZodType>(
  schema: T | undefined,
  value: unknown,
  part: InputPart,
): z.output<T> {
  if (!schema) return {} as z.output<T>;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `unknown ${part} '${key}'`).join('; ');
    }
    const name = issue.path.join('.');
    const where =
      part === 'body' ? (name === '' ? 'body' : `body field '${name}'`) : `${part} '${name}'`;
    // The value as sent, not as coerced (`"abc"`, not NaN).
    const sent = issue.path.reduce<unknown>(
      (v, key) =>
        v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined,
      value,
    );
    const got =
      sent === undefined || typeof sent === 'object' ? '' : `, got ${JSON.stringify(sent)}`;
    return `${where}: ${issue.message}${got}`;
  });
  throw new BadRequestError(messages.join('; '));
}
