/** The V8 flags `aegis` runs with (node-flags.mjs). */
export declare const NODE_FLAGS: readonly string[];
/** The environment variables `aegis` runs with (node-flags.mjs). */
export declare const RUNTIME_ENV: Readonly<Record<string, string>>;
/** The CLI bundle's shebang, which starts node with both. */
export declare const SHEBANG: string;
