/** The V8 flags `aegis` runs with (node-flags.mjs). */
export declare const NODE_FLAGS: readonly string[];
