/**
 * SPEC §15: credentials inside URLs are shown as `***` wherever a URL is
 * shown or logged (the real URL is still the one used to send). Everything
 * else stays as written — no parsing and re-serialising, which would
 * re-encode or normalise what the user wrote.
 */

export const REDACTED = '***';

/** Query parameter names, or parts of them, that carry a credential. */
const CREDENTIAL_WORDS = [
  'token',
  'key',
  'secret',
  'sig',
  'signature',
  'password',
  'passwd',
  'pwd',
  'auth',
  'authorization',
  'credential',
  'credentials',
];

/** `scheme://` then the authority, up to the path, query or fragment. */
const SCHEME_AND_AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

/** A URL inside free text: any `scheme://…` up to whitespace, a quote or an angle bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Punctuation that ends a sentence rather than the URL it follows. */
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/**
 * `access_token`, `X-Amz-Signature`, `apiKey`, `apikey`: a name looks like a
 * credential when one of its parts (split at `_`, `-`, `.`, case changes) is
 * or ends with a credential word.
 */
export function isCredentialName(name: string): boolean {
  const parts = decodeName(name)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((part) => part !== '');
  return parts.some((part) => CREDENTIAL_WORDS.some((word) => part.endsWith(word)));
}

/**
 * The URL with its userinfo (`https://***:***@host`, or `https://***@host` for
 * a user alone, which is often a token) and the values of credential-like
 * query (and fragment) parameters shown as `***`.
 */
export function redactUrl(url: string): string {
  let rest = url;
  let head = '';
  const authority = SCHEME_AND_AUTHORITY.exec(url);
  if (authority) {
    const [whole, scheme = '', hostPart = ''] = authority;
    const at = hostPart.lastIndexOf('@');
    const host = at === -1 ? hostPart : hostPart.slice(at + 1);
    const userinfo = at === -1 ? '' : redactUserinfo(hostPart.slice(0, at));
    head = `${scheme}${userinfo === '' ? '' : `${userinfo}@`}${host}`;
    rest = url.slice(whole.length);
  }
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const fragment = hash === -1 ? '' : `#${redactParameters(rest.slice(hash + 1))}`;
  const question = beforeHash.indexOf('?');
  if (question === -1) return `${head}${beforeHash}${fragment}`;
  const path = beforeHash.slice(0, question);
  const query = redactParameters(beforeHash.slice(question + 1));
  return `${head}${path}?${query}${fragment}`;
}

/** Every URL inside a free text (a log line, an error message) passed through `redactUrl`. */
export function redactUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (match) => {
    const trailing = TRAILING_PUNCTUATION.exec(match)?.[0] ?? '';
    return `${redactUrl(match.slice(0, match.length - trailing.length))}${trailing}`;
  });
}

function redactUserinfo(userinfo: string): string {
  if (userinfo === '') return '';
  const colon = userinfo.indexOf(':');
  if (colon === -1) return REDACTED;
  const user = userinfo.slice(0, colon) === '' ? '' : REDACTED;
  return `${user}:${REDACTED}`;
}

/** `a=1&token=s3cr3t` → `a=1&token=***`; a parameter without a value, or with an empty one, is kept. */
function redactParameters(parameters: string): string {
  return parameters
    .split('&')
    .map((parameter) => {
      const equals = parameter.indexOf('=');
      if (equals === -1 || equals === parameter.length - 1) return parameter;
      const name = parameter.slice(0, equals);
      return isCredentialName(name) ? `${name}=${REDACTED}` : parameter;
    })
    .join('&');
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
