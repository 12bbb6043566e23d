#!/usr/bin/env node
// Copies what the bundle cannot carry into the image's node_modules, and nothing else.
//
//   node docker/collect-runtime.mjs <bundle> <dest-node_modules> <package>...
//   e.g. node docker/collect-runtime.mjs dist/aegis.mjs /out/app/node_modules libsql
//
// dist/aegis.mjs bundles everything except the packages esbuild leaves external
// (infra/build.mjs: only `libsql`, the native libSQL binding). This loads each of
// them the way the bundle does (resolved from the bundle's directory), so that
// the binding picks its platform package (@libsql/linux-x64-gnu, or the arm64 one,
// never the musl twin npm also installs), and copies exactly the files Node
// loaded, plus each package's package.json (module resolution reads it) and its
// licence. Run it in the build stage, which has the same platform and libc as the
// runtime image.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [bundle, dest, ...packages] = process.argv.slice(2);
if (!bundle || !dest || packages.length === 0) {
  console.error('usage: collect-runtime.mjs <bundle> <dest-node_modules> <package>...');
  process.exit(2);
}

const require = createRequire(resolve(bundle));
for (const name of packages) {
  try {
    require(name);
  } catch (error) {
    console.error(
      `collect-runtime: cannot load ${name} from ${dirname(resolve(bundle))}: ${error}`,
    );
    process.exit(1);
  }
}

const marker = `${sep}node_modules${sep}`;
/** The package directory a loaded file belongs to: .../node_modules/<name> or .../node_modules/@scope/<name>. */
function packageRoot(file) {
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const parts = file.slice(at + marker.length).split(sep);
  const depth = parts[0].startsWith('@') ? 2 : 1;
  return {
    root: file.slice(0, at + marker.length) + parts.slice(0, depth).join(sep),
    top: file.slice(0, at + marker.length - 1),
  };
}

const files = new Map(); // source path -> path relative to the node_modules folder it came from
const roots = new Map();
for (const file of Object.keys(require.cache)) {
  const pkg = packageRoot(file);
  if (!pkg) continue;
  files.set(file, relative(pkg.top, file));
  roots.set(pkg.root, pkg.top);
}
for (const [root, top] of roots) {
  for (const entry of readdirSync(root)) {
    if (entry === 'package.json' || /^(licen[cs]e|notice|copying)/i.test(entry)) {
      const file = join(root, entry);
      if (statSync(file).isFile()) files.set(file, relative(top, file));
    }
  }
}
if (roots.size === 0) {
  console.error(`collect-runtime: loading ${packages.join(', ')} loaded no file from node_modules`);
  process.exit(1);
}

let total = 0;
const perPackage = new Map();
for (const [source, rel] of files) {
  const target = join(dest, rel);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  const { size } = statSync(source);
  total += size;
  const name = relative(dest, dirname(target)).split(sep);
  const pkg = name[0].startsWith('@') ? name.slice(0, 2).join('/') : name[0];
  perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + size);
}
for (const [pkg, size] of [...perPackage].sort((a, b) => b[1] - a[1]))
  console.log(`collect-runtime: ${pkg.padEnd(28)} ${(size / 1e6).toFixed(2)} MB`);
console.log(`collect-runtime: ${files.size} files, ${(total / 1e6).toFixed(2)} MB -> ${dest}`);
