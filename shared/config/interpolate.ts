import type { Environment } from '../env.ts';

export interface InterpolationResult {
  value: string;
  /** The text held a `${…}` reference (used to warn when `auth.api_key: ${X}` comes out empty). */
  hadReference: boolean;
  /** One message per variable that is unset with no default, or per malformed reference. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` as a POSIX shell does; `$${` writes
 * a literal `${`. An unset variable without a default is an error (the
 * original left the text in place, turning `${KEY}` into a guessable key).
 */
export function interpolate(text: string, env: Environment): InterpolationResult {
  let value = '';
  let hadReference = false;
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
    const close = text.indexOf('}', i + 2);
    if (close === -1) {
      errors.push(`unclosed "\${" in "${text}" (write "$\${" for a literal "\${")`);
      value += text.slice(i);
      break;
    }
    hadReference = true;
    const inner = text.slice(i + 2, close);
    const split = inner.indexOf(':-');
    const name = split === -1 ? inner : inner.slice(0, split);
    if (!NAME.test(name)) {
      errors.push(`"\${${inner}}" is not a valid reference (use \${NAME} or \${NAME:-default})`);
    } else if (split !== -1) {
      const current = env[name];
      value += current === undefined || current === '' ? inner.slice(split + 2) : current;
    } else if (env[name] === undefined) {
      errors.push(`environment variable ${name} is not set`);
    } else {
      value += env[name];
    }
    i = close + 1;
  }
  return { value, hadReference, errors };
}
