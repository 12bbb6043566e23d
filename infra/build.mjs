#!/usr/bin/env node
// Bundles the project with esbuild.
//   node infra/build.mjs cli      dist/aegis.mjs: the `aegis` command and the local host (npm's `prepare`)
//   node infra/build.mjs lambda   dist/lambda/<function>/index.mjs: one bundle per function
import { chmod, cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? 'cli';

// Bundled CommonJS dependencies (express and friends) call require(); give ESM output one.
const requireShim =
  "import { createRequire as __aegisCreateRequire } from 'node:module'; const require = __aegisCreateRequire(import.meta.url);";

async function buildCli() {
  await rm(join(root, 'dist', 'aegis.mjs'), { force: true });
  await esbuild.build({
    entryPoints: [join(root, 'local-host', 'main.ts')],
    outfile: join(root, 'dist', 'aegis.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The native libSQL binding is loaded at run time from node_modules; everything else is in the bundle.
    external: ['libsql'],
    banner: { js: `#!/usr/bin/env node\n${requireShim}` },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  await chmod(join(root, 'dist', 'aegis.mjs'), 0o755);
  await rm(join(root, 'dist', 'dashboard'), { recursive: true, force: true });
  await mkdir(join(root, 'dist'), { recursive: true });
  await cp(join(root, 'local-host', 'dashboard'), join(root, 'dist', 'dashboard'), {
    recursive: true,
  });
}

const targets = { cli: buildCli };
if (!(target in targets)) {
  console.error(`unknown build target "${target}" (known: ${Object.keys(targets).join(', ')})`);
  process.exit(2);
}
await targets[target]();
