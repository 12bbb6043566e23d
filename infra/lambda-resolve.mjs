// How the Lambda bundles resolve packages: no native code, and none of the
// dead weight that would push a function past 1 MiB (see infra/README.md).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * `@libsql/client` under Node loads the native `libsql` binding even for
 * remote URLs (libsql-client-ts #112); its `web` entry speaks HTTP/WebSocket
 * only and rejects `file:` URLs, which is what a Lambda function wants.
 */
export const LAMBDA_ALIASES = { '@libsql/client': '@libsql/client/web' };

/** The native libSQL packages: `libsql` and its prebuilt binaries (`@libsql/linux-x64-gnu`, …). */
export const NATIVE_LIBSQL = /^(libsql|@libsql\/(linux|darwin|win32|android|freebsd)-[^/]+)(\/|$)/;

/**
 * The history file is read through the native driver (shared/db/native-file-client.ts),
 * which a Lambda function cannot load: its bundle takes shared/db/no-native-file-client.ts
 * instead, so that opening a file fails as the web client does for a `file:` URL.
 */
const noFileDatabase = {
  name: 'no-file-database',
  setup(build) {
    build.onResolve({ filter: /[\\/]native-file-client\.ts$/ }, (args) => ({
      path: join(args.resolveDir, 'no-native-file-client.ts'),
    }));
  },
};

/** Fails the build when anything imports native libSQL, instead of shipping a bundle that breaks on Lambda. */
const forbidNativeLibsql = {
  name: 'forbid-native-libsql',
  setup(build) {
    build.onResolve({ filter: NATIVE_LIBSQL }, (args) => ({
      errors: [
        {
          text: `"${args.path}" is native libSQL, which a Lambda bundle must not contain (imported by ${args.importer})`,
        },
      ],
    }));
  },
};

/**
 * Node 24 has a global WebSocket, so the libSQL client's `wss://` transport
 * needs no `ws` package (50 KiB). `libsql://` and `https://` URLs use HTTP
 * and never touch it.
 */
const webSocketFromNode = {
  name: 'websocket-from-node',
  setup(build) {
    build.onResolve({ filter: /^@libsql\/isomorphic-ws$/ }, async (args) => {
      if (args.pluginData === 'websocket-from-node') return undefined;
      const nodeEntry = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'websocket-from-node',
      });
      if (nodeEntry.errors.length > 0) return { errors: nodeEntry.errors };
      return { path: join(dirname(nodeEntry.path), 'web.mjs') };
    });
  },
};

/**
 * zod's `z` namespace (and `z.core`) is re-exported as a value, so esbuild
 * keeps every one of its exports, among them `z.locales` and `z.core.locales`: the error messages of some fifty
 * languages (260 KiB). Aegis's messages are English (zod's default, which its
 * schemas import directly), so `locales` is reduced to `en`.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer))
        return undefined;
      return {
        path: join(args.resolveDir, '..', 'locales', 'index.js'),
        namespace: 'zod-english-only',
      };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * iconv-lite (under body-parser and raw-body) converts charsets: 90 KiB of
 * code and tables. Aegis reads request bodies itself, as UTF-8
 * (shared/http-api/body.ts), so body-parser's parsers never run; were one
 * ever called, it fails with this message instead of decoding.
 */
const withoutCharsetConversion = {
  name: 'without-charset-conversion',
  setup(build) {
    build.onResolve({ filter: /^iconv-lite$/ }, () => ({
      path: 'iconv-lite',
      namespace: 'without-charset-conversion',
    }));
    build.onLoad({ filter: /.*/, namespace: 'without-charset-conversion' }, () => ({
      contents: `const missing = (what) => () => { throw new Error('iconv-lite (' + what + ') is not part of the bundle: Aegis reads bodies as UTF-8 itself'); };
module.exports = { encodingExists: () => false, decode: missing('decode'), encode: missing('encode'), getDecoder: missing('getDecoder'), getEncoder: missing('getEncoder') };`,
      loader: 'js',
    }));
  },
};

/**
 * prom-client asks OpenTelemetry for the current span only to add exemplars,
 * which Aegis never turns on (21 KiB): a stand-in that has no span.
 */
const withoutOpenTelemetry = {
  name: 'without-opentelemetry',
  setup(build) {
    build.onResolve({ filter: /^@opentelemetry\/api$/ }, () => ({
      path: '@opentelemetry/api',
      namespace: 'without-opentelemetry',
    }));
    build.onLoad({ filter: /.*/, namespace: 'without-opentelemetry' }, () => ({
      contents: `module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };`,
      loader: 'js',
    }));
  },
};

/**
 * Express looks content types up in mime-db (147 KiB of JSON, about 3.5 MB
 * of resident memory once parsed) for `res.type()` and static files. Aegis
 * answers JSON, SSE and plain text, and serves only the dashboard's own
 * files, so a bundle carries those types alone, as mime-db has them. A
 * Lambda function serves no files: it takes the API's types only.
 */
const API_MIME_TYPES = ['application/json', 'text/plain', 'text/html', 'application/octet-stream'];
/** Not in mime-db; Express looks it up when the event stream sets its type. */
const EXTRA_TYPES = { 'text/event-stream': { source: 'iana', compressible: true } };
const DASHBOARD_MIME_TYPES = [
  ...API_MIME_TYPES,
  'text/css',
  'text/javascript',
  'image/png',
  'image/svg+xml',
  'image/vnd.microsoft.icon',
  'application/manifest+json',
];

function mimeTypesOnly(types) {
  return {
    name: 'mime-types-only',
    setup(build) {
      build.onLoad({ filter: /[\\/]mime-db[\\/]db\.json$/ }, async (args) => {
        const all = JSON.parse(await readFile(args.path, 'utf8'));
        const kept = {
          ...EXTRA_TYPES,
          ...Object.fromEntries(types.map((type) => [type, all[type]])),
        };
        const missing = types.filter((type) => !all[type]);
        if (missing.length > 0)
          return { errors: [{ text: `mime-db has no ${missing.join(', ')}` }] };
        return { contents: JSON.stringify(kept), loader: 'json' };
      });
    },
  };
}

/** What every bundle leaves out: the CLI's and the Lambda functions'. */
const SHARED_SLIMMING = [zodEnglishOnly, withoutCharsetConversion, withoutOpenTelemetry];
export const SLIMMING_PLUGINS = [...SHARED_SLIMMING, mimeTypesOnly(DASHBOARD_MIME_TYPES)];

export const LAMBDA_PLUGINS = [
  noFileDatabase,
  forbidNativeLibsql,
  webSocketFromNode,
  mimeTypesOnly(API_MIME_TYPES),
  ...SHARED_SLIMMING,
];
