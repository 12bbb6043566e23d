import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DRIVER = join(ROOT, 'infra', 'test-support', 'invoke-bundle.mjs');

/** The folders of functions/ that hold a Lambda handler: what the registry must list (a check, not a source). */
export function functionFolders(): string[] {
  return readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .filter((entry) => readdirSync(join(ROOT, 'functions', entry.name)).includes('handler.ts'))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Runs `npm run build:lambda`'s build into a fresh directory (so that test
 * runs side by side do not rebuild each other's bundles), packaging `config`.
 */
export function buildBundles(config: string): string {
  const outdir = mkdtempSync(join(tmpdir(), 'aegis-lambda-'));
  execFileSync(process.execPath, ['infra/build.mjs', 'lambda', '--outdir', outdir, '--quiet'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, AEGIS_LAMBDA_CONFIG: config },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return outdir;
}

/** Removes the bundles and their metafiles (which the build writes to `<outdir>-meta`). */
export function removeBundles(outdir: string | undefined): void {
  if (!outdir) return;
  rmSync(outdir, { recursive: true, force: true });
  rmSync(`${outdir}-meta`, { recursive: true, force: true });
}

export type CallResult = { ok: true; value: unknown } | { ok: false; error: string };

export interface Invocation {
  importMs: number;
  results: CallResult[];
  /** What the bundle wrote (its JSON log lines). */
  logs: string;
}

export interface InvokeOptions {
  /** The function's environment, as the template sets it; AEGIS_CONFIG defaults to the packaged config. */
  env?: Record<string, string>;
  /** What `getRemainingTimeInMillis()` starts from. */
  remainingMs?: number;
  /** The working directory (Lambda's is /var/task); a fresh empty one by default. */
  cwd?: string;
}

/**
 * One cold start: a fresh `node` process imports the built bundle and calls
 * its `handler` with each event in turn (the context is built at the first
 * call and kept, as in a Lambda sandbox). Nothing of the test's own
 * environment leaks in: the function sees PATH and `options.env` only.
 */
export async function invokeBundle(
  outdir: string,
  name: string,
  events: readonly unknown[],
  options: InvokeOptions = {},
): Promise<Invocation> {
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'aegis-task-'));
  const env = {
    PATH: process.env.PATH ?? '',
    AEGIS_CONFIG: join(outdir, name, '.aegis.yaml'),
    ...options.env,
  };
  try {
    const child = spawn(process.execPath, [DRIVER], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdin.end(
      JSON.stringify({
        bundle: join(outdir, name, 'index.mjs'),
        events,
        remainingMs: options.remainingMs,
      }),
    );
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const lines = stdout.trimEnd().split('\n');
    const last = lines.pop() ?? '';
    if (code !== 0 || !last.startsWith('{"importMs"'))
      throw new Error(`invoking ${name} failed (exit ${code}):\n${stderr}\n${stdout}`);
    return { ...(JSON.parse(last) as Omit<Invocation, 'logs'>), logs: lines.join('\n') };
  } finally {
    if (options.cwd === undefined) rmSync(cwd, { recursive: true, force: true });
  }
}

/** An API Gateway answer, with its JSON body parsed. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  json: unknown;
}

export function answerOf(result: CallResult | undefined): Answer {
  if (!result?.ok) throw new Error(`the handler threw: ${result?.error ?? 'no result'}`);
  const value = result.value as APIGatewayProxyStructuredResultV2;
  return {
    statusCode: value.statusCode ?? 200,
    headers: (value.headers ?? {}) as Record<string, string>,
    json: JSON.parse(value.body ?? 'null') as unknown,
  };
}
