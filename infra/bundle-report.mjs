#!/usr/bin/env node
// Size and cold-start time of each Lambda bundle that `npm run build:lambda` wrote.
//   node infra/bundle-report.mjs [--dir dist/lambda] [--runs 15] [--json]
// Each run is a fresh `node` process, as a Lambda cold start is: it imports the
// bundle (the "import" time), then calls its handler once with an API Gateway
// event for an unknown path, which builds the function's context and app
// without touching a database (the "first call" time). Medians and minimums
// are printed; the targets are at most 1 MiB and 150 ms of import. Each
// bundle's esbuild metafile (see metafilePath) says what takes its bytes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SIZE_TARGET_BYTES = 1024 * 1024;
export const IMPORT_TARGET_MS = 150;

/**
 * Where `npm run build:lambda` writes a function's esbuild metafile: in a
 * folder beside the bundles' (dist/lambda-meta/<function>.json for
 * dist/lambda), so the folder SAM packages holds only what runs.
 */
export function metafilePath(bundlesDir, name) {
  return join(metafileDir(bundlesDir), `${name}.json`);
}

export function metafileDir(bundlesDir) {
  return `${bundlesDir}-meta`;
}

/** What takes a bundle's bytes, from its metafile: the largest packages (or project folders), biggest first. */
function largestParts(metafile, count = 3) {
  const sizes = new Map();
  for (const output of Object.values(metafile.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const part =
        /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/')[0] ?? input;
      sizes.set(part, (sizes.get(part) ?? 0) + bytesInOutput);
    }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([part, bytes]) => ({ part, bytes }));
}

const PROBE = `
const bundle = process.argv[1];
const t0 = performance.now();
const { handler } = await import(bundle);
const t1 = performance.now();
await handler({
  version: '2.0', routeKey: '$default', rawPath: '/__cold-start', rawQueryString: '',
  headers: { host: 'bundle-report' }, isBase64Encoded: false,
  requestContext: { http: { method: 'GET', path: '/__cold-start', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bundle-report' },
    requestId: 'bundle-report', routeKey: '$default', stage: '$default', timeEpoch: Date.now() },
}, {});
const t2 = performance.now();
process.stdout.write('\\n' + JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1 }) + '\\n');
process.exit(0);
`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One fresh process: how long the import and the first call took. */
function coldStart(bundle, cwd) {
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', PROBE, pathToFileURL(bundle).href],
    // No config, no database: the built-in defaults, and nothing of this shell's AEGIS_* settings.
    { cwd, env: { PATH: process.env.PATH, LOG_LEVEL: 'ERROR' }, encoding: 'utf8' },
  );
  return JSON.parse(out.trimEnd().split('\n').pop());
}

/** Measures every bundle under `dir`: bytes, and import/first-call times over `runs` cold starts. */
export function measureLambdaBundles({ dir = join(root, 'dist', 'lambda'), runs = 15 } = {}) {
  if (!existsSync(dir))
    throw new Error(`${dir} does not exist: run \`npm run build:lambda\` first`);
  const cwd = mkdtempSync(join(tmpdir(), 'aegis-bundle-report-'));
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'index.mjs')))
      .map((entry) => {
        const bundle = join(dir, entry.name, 'index.mjs');
        const samples = Array.from({ length: runs }, () => coldStart(bundle, cwd));
        const imports = samples.map((s) => s.importMs);
        const firstCalls = samples.map((s) => s.firstCallMs);
        const metafile = metafilePath(dir, entry.name);
        return {
          name: entry.name,
          bytes: statSync(bundle).size,
          largest: existsSync(metafile)
            ? largestParts(JSON.parse(readFileSync(metafile, 'utf8')))
            : null,
          importMs: { median: median(imports), min: Math.min(...imports) },
          firstCallMs: { median: median(firstCalls), min: Math.min(...firstCalls) },
        };
      });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dirOption = option('--dir');
  const report = measureLambdaBundles({
    dir: dirOption ? resolve(dirOption) : undefined,
    runs: Number(option('--runs') ?? 15),
  });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const ms = (value) => `${value.toFixed(0).padStart(4)} ms`;
    console.log('function    size      import (median / min)   first call (median / min)');
    for (const r of report) {
      const size = `${(r.bytes / 1024).toFixed(0)} KiB`.padStart(8);
      const flags = [
        r.bytes > SIZE_TARGET_BYTES ? 'OVER 1 MiB' : '',
        r.importMs.median > IMPORT_TARGET_MS ? `import over ${IMPORT_TARGET_MS} ms` : '',
      ].filter(Boolean);
      console.log(
        `${r.name.padEnd(10)} ${size}   ${ms(r.importMs.median)} / ${ms(r.importMs.min)}        ${ms(r.firstCallMs.median)} / ${ms(r.firstCallMs.min)}${flags.length > 0 ? `   ${flags.join(', ')}` : ''}`,
      );
      if (r.largest)
        console.log(
          `           largest: ${r.largest.map((p) => `${p.part} ${(p.bytes / 1024).toFixed(0)} KiB`).join(', ')}`,
        );
    }
    console.log(
      `targets: at most ${SIZE_TARGET_BYTES / 1024} KiB and ${IMPORT_TARGET_MS} ms of import (median of fresh processes on this machine)`,
    );
  }
}
