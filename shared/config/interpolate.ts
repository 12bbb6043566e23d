import type { Environment } from '../env.ts';

export interface InterpolationResult {
  value: string;
  /** The text held a `${…}` reference (used to warn when `auth.api_key: ${X}` comes out empty). */
  hadReference: boolean;
  /** The variables whose values went into the result (not those whose default was used instead). */
  variables: string[];
  /** One message per variable that is unset with no default, or per malformed reference. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` as a POSIX shell does (the default
 * may itself hold references, read only when it is used); `$${` writes a
 * literal `${`. An unset variable without a default is an error (the original
 * left the text in place, turning `${KEY}` into a guessable key).
 */
export function interpolate(text: string, env: Environment): InterpolationResult {
  let value = '';
  let hadReference = false;
  const variables: string[] = [];
  const errors: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      value += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      value += text[i];
      i += 1;
      continue;
    }
    const close = closingBrace(text, i + 2);
    if (close === -1) {
      // The text itself is not quoted: it may be a secret.
      errors.push('unclosed "${" (write "$${" for a literal "${")');
      value += text.slice(i);
      break;
    }
    hadReference = true;
    const inner = text.slice(i + 2, close);
    const split = inner.indexOf(':-');
    const name = split === -1 ? inner : inner.slice(0, split);
    const current = env[name];
    if (!NAME.test(name)) {
      errors.push(`"\${${inner}}" is not a valid reference (use \${NAME} or \${NAME:-default})`);
    } else if (split !== -1 && (current === undefined || current === '')) {
      const fallback = interpolate(inner.slice(split + 2), env);
      value += fallback.value;
      variables.push(...fallback.variables);
      errors.push(...fallback.errors);
    } else if (current === undefined) {
      errors.push(`environment variable ${name} is not set`);
    } else {
      value += current;
      variables.push(name);
    }
    i = close + 1;
  }
  return { value, hadReference, variables: [...new Set(variables)], errors };
}

/** The index of the `}` that closes a `${` whose body starts at `from`, skipping nested `${…}`; -1 if none. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text.startsWith('$${', i)) i += 2;
    else if (text.startsWith('${', i)) {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}
