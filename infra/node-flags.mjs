// How `aegis` starts node: in the CLI bundle's shebang (`npx aegis serve`) and in the
// container (the Dockerfile repeats both; infra/node-flags.test.ts keeps them alike).
// Figures in bench/README.md ("Memory").

// No V8 flag at start. `aegis serve` sets --optimize-for-size at run time (serve.ts): the heap
// stays close to what the host uses. Given at start, the same flag also shrinks the young
// generation to 1 MB semi-spaces, and the history under 50 connections went from 12,700 to
// 10,000 req/s and from p99 = 2.4 × p50 to 4.4–4.8 × (with --max-semi-space-size=4: 3.3–3.6 ×).
export const NODE_FLAGS = [];

// MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs (libuv's pool, V8's helpers) an arena
//   of its own, and each keeps the pages it touched; two arenas take ~5 MB off the RSS growth
//   over 5,000 runs, at the same req/s. Other C libraries ignore it.
export const RUNTIME_ENV = { MALLOC_ARENA_MAX: '2' };

/** The bundle's first line: `env -S` splits it, so the bundle runs so however it is started as a command. */
export const SHEBANG = `#!/usr/bin/env -S ${[
  ...Object.entries(RUNTIME_ENV).map(([name, value]) => `${name}=${value}`),
  'node',
  ...NODE_FLAGS,
].join(' ')}`;
