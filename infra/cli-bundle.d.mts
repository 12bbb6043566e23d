import type { BuildOptions } from 'esbuild';
/** esbuild options for a node bundle built as `dist/aegis.mjs` is (cli-bundle.mjs). */
export declare function cliBundleOptions(firstLine?: string): BuildOptions;
/** The line that gives an ESM bundle a `require` for its bundled CommonJS dependencies. */
export declare const REQUIRE_SHIM: string;
