import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './report.ts';
import { commandOutput, freePort, median, ROOT, round, waitFor200 } from './support.ts';

/** BENCH_IMAGE names another image (a tag under trial); by default `aegis:latest`. */
const IMAGES = process.env.BENCH_IMAGE ? [process.env.BENCH_IMAGE] : ['aegis:latest', 'aegis'];
const DOCKERFILES = ['Dockerfile', 'infra/Dockerfile', 'infra/docker/Dockerfile'];
const MB = 1e6;
const RUNS = 3;

function docker(args: readonly string[]): string | null {
  return commandOutput('docker', args);
}

/** The size of each `docker history` row, newest first. */
function historySizes(image: string): number[] | null {
  const out = docker(['history', '--no-trunc', '--human=false', '--format', '{{.Size}}', image]);
  return out === null ? null : out.split('\n').map((line) => Number(line.trim()) || 0);
}

/**
 * The image the Dockerfile's final stage is built on: its `FROM`, followed through stage names
 * (`FROM runtime-base`) and `ARG` defaults (`FROM ${RUNTIME_IMAGE} AS runtime-base`).
 */
export function baseImage(dockerfile: string): string | null {
  const args = new Map<string, string>();
  const stages = new Map<string, string>();
  let base: string | null = null;
  const expand = (text: string) =>
    text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => args.get(name) ?? whole);
  for (const line of dockerfile.split('\n')) {
    const arg = /^\s*ARG\s+(\w+)=(\S+)/i.exec(line);
    if (arg?.[1] && arg[2] && !args.has(arg[1])) args.set(arg[1], arg[2].replace(/^"|"$/g, ''));
    const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from?.[1]) continue;
    const image = expand(from[1]);
    base = stages.get(image.toLowerCase()) ?? image;
    if (from[2]) stages.set(from[2].toLowerCase(), base);
  }
  return base;
}

function projectBaseImage(): string | null {
  const file = DOCKERFILES.map((f) => join(ROOT, f)).find((f) => existsSync(f));
  return file ? baseImage(readFileSync(file, 'utf8')) : null;
}

function dockerRun(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', ['run', ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr || error.message));
      else resolve(stdout.trim());
    });
  });
}

/** `docker run` of the image to a 200 on `/health`. */
async function runToHealthy(image: string): Promise<number> {
  const exposed = docker(['image', 'inspect', '-f', '{{json .Config.ExposedPorts}}', image]);
  const containerPort = /"(\d+)\/tcp"/.exec(exposed ?? '')?.[1] ?? '8000';
  const port = await freePort();
  const since = performance.now();
  const id = await dockerRun(['-d', '--rm', '-p', `127.0.0.1:${port}:${containerPort}`, image]);
  try {
    return await waitFor200(`http://127.0.0.1:${port}/health`, { since, timeoutMs: 60_000 });
  } finally {
    docker(['rm', '-f', id]);
  }
}

/** The image's total size, its own layers (history rows above the base image) and run-to-healthy time. */
export async function benchContainer(): Promise<Row[]> {
  const unavailable = (measured: string): Row[] => [
    { section: 'container', figure: 'container image', measured },
  ];
  if (docker(['info', '--format', '{{.ServerVersion}}']) === null)
    return unavailable('docker not available');
  const image = IMAGES.find((name) => docker(['image', 'inspect', name]) !== null);
  if (!image)
    return unavailable(`no image \`${IMAGES[0]}\` (build it: \`docker build -t aegis .\`)`);

  const total = Number(docker(['image', 'inspect', '-f', '{{.Size}}', image]));
  const rows = historySizes(image) ?? [];
  const base = projectBaseImage();
  const baseRows = base === null ? null : historySizes(base);
  const own =
    baseRows === null || baseRows.length > rows.length
      ? null
      : rows.slice(0, rows.length - baseRows.length).reduce((sum, size) => sum + size, 0);
  const runs: number[] = [];
  let runError: string | null = null;
  try {
    for (let i = 0; i < RUNS; i++) runs.push(await runToHealthy(image));
  } catch (error) {
    runError = error instanceof Error ? error.message : String(error);
  }
  const healthyMs = runs.length === RUNS ? median(runs) : null;
  return [
    {
      section: 'container',
      figure: `image \`${image}\`, total size`,
      measured: `${round(total / MB, 1)} MB`,
      detail: { bytes: total },
    },
    {
      section: 'container',
      figure: 'image, own layers (above the base)',
      measured:
        own === null
          ? `unknown (base image ${base ?? '?'} not found locally)`
          : `${round(own / MB, 2)} MB in ${rows.length - (baseRows?.length ?? 0)} history rows over ${base}`,
      ...(own === null ? {} : { value: round(own / MB, 2) }),
      target: { max: 12 },
      targetText: '≤ 12 MB',
    },
    {
      section: 'container',
      figure: '`docker run` → 200 on `/health`',
      measured: healthyMs === null ? `failed: ${runError}` : `${round(healthyMs, 0)} ms`,
      note: `median of ${RUNS}, from \`docker run -d\` to the first 200 through the published port`,
      detail: { runs },
    },
  ];
}
