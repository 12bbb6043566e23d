#!/usr/bin/env node
// Bundles the project with esbuild.
//   node infra/build.mjs cli      dist/aegis.mjs: the `aegis` command and the local host (npm's `prepare`)
//   node infra/build.mjs lambda   dist/lambda/<function>/index.mjs: one bundle per function
//                                 (--outdir DIR builds them elsewhere, --quiet prints nothing)
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { register } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { metafileDir, metafilePath } from './bundle-report.mjs';
import { cliBundleOptions, REQUIRE_SHIM } from './cli-bundle.mjs';
import { LAMBDA_ALIASES, LAMBDA_PLUGINS } from './lambda-resolve.mjs';
import { SHEBANG } from './node-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? 'cli';

/** Writes esbuild's in-memory outputs through a temporary file and a rename, so a reader never sees half a file. */
async function writeAtomically(outputFiles) {
  for (const file of outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(temporary, file.contents);
    if (file.path.endsWith('.mjs')) await chmod(temporary, 0o755);
    await rename(temporary, file.path);
  }
}

async function buildCli() {
  const result = await esbuild.build({
    ...cliBundleOptions(SHEBANG),
    entryPoints: [join(root, 'local-host', 'main.ts')],
    outfile: join(root, 'dist', 'aegis.mjs'),
    sourcemap: 'linked',
    write: false,
  });
  await writeAtomically(result.outputFiles);
  // The dashboard beside the bundle: copied aside, then swapped in.
  const dashboard = join(root, 'dist', 'dashboard');
  const incoming = `${dashboard}.${process.pid}.tmp`;
  await cp(join(root, 'local-host', 'dashboard'), incoming, { recursive: true });
  await rm(dashboard, { recursive: true, force: true });
  await rename(incoming, dashboard);
}

/** The Lambda functions: the registry's (functions/index.ts), read through the TypeScript loader. */
async function lambdaFunctionNames() {
  register('./ts-hooks.mjs', import.meta.url);
  const { FUNCTION_NAMES } = await import(pathToFileURL(join(root, 'functions', 'index.ts')).href);
  return [...FUNCTION_NAMES];
}

/**
 * The config packaged into every function as `.aegis.yaml` (the template
 * points AEGIS_CONFIG at /var/task/.aegis.yaml): AEGIS_LAMBDA_CONFIG names
 * it; without it, the project's own .aegis.yaml; without that, an empty
 * file, so the functions run on the built-in defaults.
 */
function lambdaConfigSource() {
  const named = process.env.AEGIS_LAMBDA_CONFIG;
  if (named !== undefined && named !== '') {
    const path = resolve(process.cwd(), named);
    if (!existsSync(path)) {
      console.error(`AEGIS_LAMBDA_CONFIG names ${path}, which does not exist`);
      process.exit(2);
    }
    return { path, origin: 'AEGIS_LAMBDA_CONFIG' };
  }
  const projectConfig = join(root, '.aegis.yaml');
  if (existsSync(projectConfig)) return { path: projectConfig, origin: 'the project' };
  return null;
}

const NO_CONFIG = `# No config was packaged (set AEGIS_LAMBDA_CONFIG when running \`npm run build:lambda\`):
# the function runs on the built-in defaults, with no services, workflows or webhooks.
{}
`;

/** The part of a build's metafile that one output is made of: what each function's metafile holds. */
function metafileOf(metafile, outputPath) {
  const output = metafile.outputs[outputPath];
  const inputs = Object.fromEntries(
    Object.keys(output.inputs).map((input) => [input, metafile.inputs[input]]),
  );
  return { inputs, outputs: { [outputPath]: output } };
}

/** The value of a `--name value` option, if given. */
function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function buildLambda() {
  const names = await lambdaFunctionNames();
  const configSource = lambdaConfigSource();
  const outdirOption = option('--outdir');
  const outdir = outdirOption ? resolve(process.cwd(), outdirOption) : join(root, 'dist', 'lambda');
  await rm(outdir, { recursive: true, force: true });
  await rm(metafileDir(outdir), { recursive: true, force: true });
  // One build for every function: esbuild parses the shared modules once; each entry is still its own bundle.
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(
      names.map((name) => [`${name}/index`, join(root, 'functions', name, 'handler.ts')]),
    ),
    outdir,
    outExtension: { '.js': '.mjs' },
    // Paths in the metafile and the source maps are relative to the project, wherever the build runs from.
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    alias: LAMBDA_ALIASES,
    plugins: LAMBDA_PLUGINS,
    banner: { js: REQUIRE_SHIM },
    sourcemap: 'linked',
    // The map points at the sources in the repository; their text would double the package.
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const built = [];
  for (const name of names) {
    const bundle = join(outdir, name, 'index.mjs');
    const outputPath = Object.keys(result.metafile.outputs).find(
      (path) => resolve(root, path) === bundle,
    );
    // Beside the package, not in it: SAM deploys the function's folder as it is.
    const metafile = metafilePath(outdir, name);
    await mkdir(dirname(metafile), { recursive: true });
    await writeFile(metafile, JSON.stringify(metafileOf(result.metafile, outputPath)));
    if (configSource) await cp(configSource.path, join(outdir, name, '.aegis.yaml'));
    else await writeFile(join(outdir, name, '.aegis.yaml'), NO_CONFIG);
    built.push({ name, bytes: (await stat(bundle)).size });
  }
  if (process.argv.includes('--quiet')) return;
  for (const { name, bytes } of built)
    console.log(
      `${relative(process.cwd(), join(outdir, name, 'index.mjs'))}  ${(bytes / 1024).toFixed(0)} KiB`,
    );
  console.log(
    configSource
      ? `packaged config: ${relative(process.cwd(), configSource.path) || configSource.path} (from ${configSource.origin}) as .aegis.yaml`
      : 'packaged config: none found (no AEGIS_LAMBDA_CONFIG, no .aegis.yaml): the functions run on the built-in defaults',
  );
}

const targets = { cli: buildCli, lambda: buildLambda };
if (!(target in targets)) {
  console.error(`unknown build target "${target}" (known: ${Object.keys(targets).join(', ')})`);
  process.exit(2);
}
await targets[target]();
