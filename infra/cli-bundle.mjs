// How the CLI bundle is built (infra/build.mjs), shared with the bench, which bundles its
// stack-only reference server the same way so that the two idle RSS figures compare.
import { SLIMMING_PLUGINS } from './lambda-resolve.mjs';

// Bundled CommonJS dependencies (express and friends) call require(); give ESM output one.
export const REQUIRE_SHIM =
  "import { createRequire as __aegisCreateRequire } from 'node:module'; const require = __aegisCreateRequire(import.meta.url);";

/** esbuild options for a node bundle built as `dist/aegis.mjs` is, its first line before the shim. */
export function cliBundleOptions(firstLine = '') {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The native libSQL binding is loaded at run time from node_modules; everything else is in the bundle.
    external: ['libsql'],
    plugins: SLIMMING_PLUGINS,
    // Whitespace and syntax only: renaming identifiers too saves little more and costs about
    // 9 MB of resident memory on Node 20 (bench/README.md); names stay readable in errors.
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: `${firstLine}${firstLine ? '\n' : ''}${REQUIRE_SHIM}` },
    logLevel: 'warning',
  };
}
