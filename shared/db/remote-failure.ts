import { ENV } from '../env.ts';
import { errorMessage } from '../errors.ts';
import { describeTransportError } from '../services/http.ts';

/**
 * Why a libSQL server could not be used, in words a user can act on. The
 * client reports most failures as a bare "fetch failed" (HTTP) or a
 * WebSocket error's text, with the real cause one or two `cause`s down.
 */
export function describeRemoteFailure(error: unknown, hasToken: boolean): string | undefined {
  const chain = causes(error);
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter(isString);
  const text = chain.map(errorMessage).join('\n');
  const status = httpStatus(chain, text);

  if (status === 401 || status === 403 || refusedCredentials(codes, chain))
    return `the server refused the connection${status ? ` (HTTP ${status})` : ''}: ${
      hasToken
        ? `${ENV.dbAuthToken} is wrong or has expired`
        : `${ENV.dbAuthToken} is not set, and this server needs it`
    }`;
  if (/includes credentials/.test(text))
    return `the URL holds a user name or password, which a libSQL client cannot send: put the token in ${ENV.dbAuthToken}`;
  const tls = tlsFailure(codes, text);
  if (tls) return tls;
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN') || /\bENOTFOUND\b/.test(text)) {
    const host = /ENOTFOUND (\S+)/.exec(text)?.[1];
    return `DNS lookup failed: host ${host ? `"${host}" ` : ''}not found`;
  }
  if (codes.includes('ECONNREFUSED') || /\bECONNREFUSED\b/.test(text)) return 'connection refused';
  if (chain.some((e) => errorMessage(e) === 'bad port'))
    return 'fetch does not connect to that port (it is on its list of blocked ports)';
  // An answer, but not a libSQL one: a web page, another API, no such path.
  const notLibsql =
    status === 404 ||
    status === 405 ||
    (status !== undefined && status < 300) ||
    chain.some((e) => e instanceof SyntaxError) ||
    codes.includes('HRANA_PROTO_ERROR');
  if (notLibsql)
    return `it does not answer as a libSQL server${status !== undefined && status >= 300 ? ` (HTTP ${status})` : ''}: check ${ENV.dbUrl}`;
  if (status !== undefined) return `the server answered HTTP ${status}`;
  if (error instanceof TypeError && codes.length > 0) return describeTransportError(error);
  return undefined;
}

/** A message with the credentials and query of any URL in it replaced, as describeTarget shows a URL. */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1').replace(/\?[^\s#]*/g, '');
}

/** The error and its causes, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 6; ) {
    chain.push(current);
    current = (current as { cause?: unknown } | null)?.cause;
  }
  return chain;
}

/** The HTTP status the server answered with: an HTTP error's `status`, or a refused WebSocket upgrade's. */
function httpStatus(chain: readonly unknown[], text: string): number | undefined {
  for (const e of chain) {
    const status = (e as { status?: unknown }).status;
    if (typeof status === 'number') return status;
  }
  const upgrade = /Unexpected server response: (\d{3})/.exec(text)?.[1];
  return upgrade === undefined ? undefined : Number(upgrade);
}

/** sqld and Turso answer a bad token with an error body (`AUTH_*` codes), which hides the status. */
function refusedCredentials(codes: readonly string[], chain: readonly unknown[]): boolean {
  return (
    codes.some((code) => code.startsWith('AUTH_')) ||
    chain.some(
      (e) =>
        (e as { name?: unknown }).name === 'ResponseError' &&
        /unauthori[sz]ed|forbidden|\bauth/i.test(errorMessage(e)),
    )
  );
}

function tlsFailure(codes: readonly string[], text: string): string | undefined {
  if (/wrong version number|ERR_SSL_WRONG_VERSION_NUMBER/.test(text))
    return 'TLS failed: the server does not speak TLS there (for a server without TLS, use http:// or ws://)';
  const code = codes.find((c) =>
    /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(c),
  );
  if (code) return `TLS failed: ${code}`;
  if (/\bEPROTO\b|SSL routines|certificate/i.test(text)) return 'TLS failed';
  return undefined;
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
