import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Row } from './report.ts';
import { median, ROOT, round } from './support.ts';

const LAMBDA_DIR = join(ROOT, 'dist', 'lambda');
const IMPORTS = 3;
const MiB = 2 ** 20;

/** What is deployed: everything in the function's directory but its source map (the metafile is elsewhere). */
function deployedBytes(dir: string): number {
  return readdirSync(dir)
    .filter((name) => !name.endsWith('.map'))
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** A fresh `node` that times `import()` of the bundle, from its own directory (as /var/task). */
function coldImportMs(dir: string): Promise<number> {
  const url = pathToFileURL(join(dir, 'index.mjs')).href;
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(url)}); if (typeof m.handler !== 'function') throw new Error('no handler export'); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: dir, env: { ...process.env, LOG_LEVEL: undefined }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`importing ${url} failed: ${stderr || error.message}`));
        else resolve(Number(stdout));
      },
    );
  });
}

/** Each `dist/lambda/<function>/index.mjs`: deployed size, and cold `import()` time (median of 5 fresh processes). */
export async function benchLambda(): Promise<Row[]> {
  const names = existsSync(LAMBDA_DIR)
    ? readdirSync(LAMBDA_DIR).filter((name) => existsSync(join(LAMBDA_DIR, name, 'index.mjs')))
    : [];
  if (names.length === 0) {
    return [
      {
        section: 'lambda',
        figure: 'Lambda bundles',
        measured: 'not built',
        note: 'run `npm run build:lambda` first',
      },
    ];
  }
  const rows: Row[] = [];
  for (const name of names.sort()) {
    const dir = join(LAMBDA_DIR, name);
    const bytes = deployedBytes(dir);
    const times: number[] = [];
    let failure: string | null = null;
    try {
      for (let i = 0; i < IMPORTS; i++) times.push(await coldImportMs(dir));
    } catch (error) {
      failure = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    }
    const ms = round(median(times), 1);
    rows.push(
      {
        section: 'lambda',
        figure: `Lambda \`${name}\` bundle size`,
        measured: `${round(bytes / 1024, 0)} KiB`,
        value: round(bytes / MiB, 3),
        target: { max: 1 },
        targetText: '≤ 1 MiB',
        note: 'index.mjs and what ships beside it, without source map',
        detail: { bytes },
      },
      {
        section: 'lambda',
        figure: `Lambda \`${name}\` cold \`import()\``,
        measured: failure === null ? `${ms} ms` : `failed: ${failure}`,
        ...(failure === null ? { value: ms } : {}),
        target: { max: 150 },
        targetText: '≤ 150 ms',
        note: `median of ${IMPORTS} fresh processes`,
        detail: { times },
      },
    );
  }
  return rows;
}
