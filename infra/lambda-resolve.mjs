// How the Lambda bundles resolve packages: no native code, and none of the
// dead weight that would push a function past 1 MiB (see infra/README.md).
import { basename, dirname, join } from 'node:path';

/**
 * `@libsql/client` under Node loads the native `libsql` binding even for
 * remote URLs (libsql-client-ts #112); its `web` entry speaks HTTP/WebSocket
 * only and rejects `file:` URLs, which is what a Lambda function wants.
 */
export const LAMBDA_ALIASES = { '@libsql/client': '@libsql/client/web' };

/** The native libSQL packages: `libsql` and its prebuilt binaries (`@libsql/linux-x64-gnu`, …). */
export const NATIVE_LIBSQL = /^(libsql|@libsql\/(linux|darwin|win32|android|freebsd)-[^/]+)(\/|$)/;

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
 * iconv-lite (under body-parser) carries the tables of the Chinese, Japanese
 * and Korean double-byte encodings (390 KiB), each loaded only when such an
 * encoding is asked for. The API accepts JSON bodies only, and body-parser
 * rejects a JSON body in any charset but UTF-8/16/32 with 415 before decoding,
 * so no table is ever loaded; one that somehow were fails with this message.
 */
const withoutDoubleByteTables = {
  name: 'without-double-byte-tables',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]iconv-lite[\\/]encodings[\\/]tables[\\/][^\\/]+\.json$/ },
      (args) => ({
        contents: `throw new Error(${JSON.stringify(`the encoding table ${basename(args.path)} is not part of the bundle`)});`,
        loader: 'js',
      }),
    );
  },
};

/** What every bundle leaves out: the CLI's and the Lambda functions'. */
export const SLIMMING_PLUGINS = [zodEnglishOnly, withoutDoubleByteTables];

export const LAMBDA_PLUGINS = [forbidNativeLibsql, webSocketFromNode, ...SLIMMING_PLUGINS];
