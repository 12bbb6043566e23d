// The V8 flags `aegis` runs with: in the CLI bundle's shebang (`npx aegis serve`) and in the
// container's ENTRYPOINT (the Dockerfile repeats them; infra/node-flags.test.ts keeps the two
// alike). Figures in bench/README.md ("Memory", "The tail under 50 connections").
// --optimize-for-size: V8 keeps the heap close to what the host uses instead of growing it with
//   the allocation rate.
// --single-threaded-gc: the host's heap is small (~15 MB live), and on one CPU, as in a small
//   container or with the bench's server pinned to a core, V8's GC helper threads only take
//   turns with the main thread: history p99 ÷ p50 under 50 connections 3.2 → 2.2, idle RSS
//   −2.7 MB, at the same req/s. Neither flag is allowed in NODE_OPTIONS.
export const NODE_FLAGS = ['--optimize-for-size', '--single-threaded-gc'];
