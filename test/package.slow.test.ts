// `npm pack` → `npm install <tarball>` in an empty folder → the installed `aegis` works.
// Slow (a real npm install from the registry), so it lives apart from the fast tests.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '#shared/version.ts';
import { type ProcessResult, runCommand, spawnCommand } from '#test/support/cli-process.ts';
import { eventually } from '#test/support/host.ts';

const ROOT = join(import.meta.dirname, '..');
const INSTALL_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 120_000;

/**
 * What npm needs from the caller's environment, and nothing else: `npm test`
 * exports npm_* variables of its own (this project's root among them), and
 * an AEGIS_CONFIG of the caller's shell must not reach the installed aegis.
 */
function cleanEnv(): Record<string, string> {
  const keep =
    /^(PATH|HOME|TMPDIR|https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|npm_config_(registry|cache|userconfig|globalconfig))$/i;
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => keep.test(entry[0]) && entry[1] !== undefined,
    ),
  );
}

function npm(args: readonly string[], cwd: string, timeoutMs = INSTALL_TIMEOUT_MS) {
  return runCommand('npm', args, { cwd, env: cleanEnv(), timeoutMs });
}

/** `npx aegis …` in the install folder; `--no` so that npx never fetches a registry package of that name. */
function npxAegis(args: readonly string[], cwd: string) {
  return runCommand('npx', ['--no', '--', 'aegis', ...args], {
    cwd,
    env: cleanEnv(),
    timeoutMs: 30_000,
  });
}

function check(result: ProcessResult, what: string): ProcessResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stderr}`);
  return result;
}

/** Why the registry cannot be used, or null when `npm ping` reaches it. */
async function registryUnreachable(): Promise<string | null> {
  try {
    const ping = await npm(['ping', '--fetch-retries=0', '--fetch-timeout=10000'], ROOT, 20_000);
    if (ping.code === 0) return null;
    if (ping.code === null) return 'npm ping had no answer within 20 s';
    const cause = ping.stderr
      .split('\n')
      .find((line) => /error/i.test(line) && !/complete log/.test(line));
    return `npm ping failed (exit ${ping.code}): ${cause?.trim() ?? ping.stderr.trim()}`;
  } catch (error) {
    return `npm could not be started: ${(error as Error).message}`;
  }
}

/**
 * A copy of the checkout without dist/ (its files as git lists them, its
 * node_modules linked), so that `npm pack` builds from scratch as in a fresh
 * clone, and never rewrites the dist/ that other tests are running.
 */
function freshCheckout(into: string): string {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  for (const file of listed.split('\0')) {
    if (file === '' || !existsSync(join(ROOT, file))) continue; // deleted, not yet staged
    mkdirSync(dirname(join(into, file)), { recursive: true });
    cpSync(join(ROOT, file), join(into, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(into, 'node_modules'), 'dir');
  return into;
}

interface PackedFile {
  path: string;
}

const work = mkdtempSync(join(tmpdir(), 'aegis-pack-'));
let unreachable: string | null = null;
let tarball = '';
let packedFiles: string[] = [];
let app = '';

beforeAll(async () => {
  unreachable = await registryUnreachable();
  if (unreachable !== null) {
    console.warn(
      `test/package.slow.test.ts skipped: the npm registry is not reachable (${unreachable})`,
    );
    return;
  }
  const source = freshCheckout(join(work, 'source'));
  mkdirSync(join(work, 'packed'));
  const pack = check(
    await npm(['pack', '--json', '--pack-destination', join(work, 'packed')], source),
    'npm pack',
  );
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
    filename: string;
    files: PackedFile[];
  }[];
  if (!packed) throw new Error(`npm pack printed no package: ${pack.stdout}`);
  tarball = join(work, 'packed', packed.filename);
  packedFiles = packed.files.map((file) => file.path).sort();
  // An empty project of the user's: its package.json keeps npm from installing into a parent folder.
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "aegis-user", "private": true }\n');
  check(
    await npm(['install', '--no-audit', '--no-fund', '--offline=false', tarball], app),
    'npm install',
  );
}, INSTALL_TIMEOUT_MS * 2);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every test needs the registry; without it, each says why it did not run. */
function needsRegistry(skip: (condition: boolean, note?: string) => void): void {
  skip(unreachable !== null, `the npm registry is not reachable: ${unreachable}`);
}

describe('the package that npm pack makes', () => {
  it('carries the bundle, its dashboard, the docs and the examples, and no sources', ({ skip }) => {
    needsRegistry(skip);
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        '.aegis.yaml.example',
        'README.md',
        'dist/aegis.mjs',
        'dist/aegis.mjs.map',
        'dist/dashboard/index.html',
        'examples/demo.aegis.yaml',
        'package.json',
      ]),
    );
    const allowed =
      /^(\.aegis\.yaml\.example|README\.md|LICENSE|package\.json|dist\/aegis\.mjs(\.map)?|dist\/dashboard\/.+|examples\/.+)$/;
    expect(packedFiles.filter((path) => !allowed.test(path))).toEqual([]);
  });

  it(
    'installed into an empty folder, answers npx aegis --help, init and config validate',
    async ({ skip }) => {
      needsRegistry(skip);
      const help = check(await npxAegis(['--help'], app), 'npx aegis --help');
      expect(help.stdout).toContain('Usage: aegis [options] [command]');
      expect(help.stdout).toMatch(/^ {2}init \[options\]/m);

      const init = check(await npxAegis(['init'], app), 'npx aegis init');
      expect(init.stdout).toContain(`Wrote ${join(app, '.aegis.yaml')}\n`);

      const validate = check(
        await npxAegis(['config', 'validate'], app),
        'npx aegis config validate',
      );
      expect(validate.stdout).toContain('Valid: 2 services, 1 workflow, 0 webhooks.\n');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'serves its dashboard and history from the install, and stops on SIGTERM',
    async ({ skip }) => {
      needsRegistry(skip);
      const serve = spawnCommand(
        'npx',
        ['--no', '--', 'aegis', 'serve', '--host', '127.0.0.1', '--port', '0'],
        { cwd: app, env: cleanEnv(), timeoutMs: 60_000, processGroup: true },
      );
      // npx does not pass SIGTERM on to the command it runs: signal the group, as a terminal would.
      const stop = () => process.kill(-(serve.child.pid ?? 0), 'SIGTERM');
      try {
        const url = await eventually(
          () => /listening on (http:\/\/[^\s"]+)/.exec(serve.stdout())?.[1],
          30_000,
          `aegis serve to listen (stderr: ${serve.stderr()})`,
        );

        const health = await fetch(`${url}/health`);
        expect(health.status).toBe(200);
        expect(((await health.json()) as { version: string }).version).toBe(PACKAGE_VERSION);
        // The dashboard's files, found beside the installed bundle.
        const page = await fetch(`${url}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<html');
        // The history, in libSQL through the native binding the install brought.
        const history = await fetch(`${url}/api/history`);
        expect(history.status).toBe(200);
        expect(await history.json()).toEqual([]);
      } finally {
        stop();
      }
      // The output ends when aegis itself has exited (npx may be gone before it).
      await serve.exited;
      expect(serve.stdout()).toMatch(/"message":"Aegis stopped"/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "installs globally with the README's command",
    async ({ skip }) => {
      needsRegistry(skip);
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const command = /^npm install -g (\.\/aegis-\S+\.tgz)/m.exec(readme);
      expect(command?.[1], 'the README names the file npm pack makes').toBe(
        `./${basename(tarball)}`,
      );
      // Into a prefix of its own. npm reads the global config from <prefix>/etc/npmrc,
      // so the machine's (a CA file, a registry mirror) is named explicitly.
      const prefix = join(work, 'global');
      const globalconfig = check(await npm(['config', 'get', 'globalconfig'], work), 'npm config');
      check(
        await npm(
          [
            'install',
            '-g',
            command?.[1] ?? '',
            '--prefix',
            prefix,
            '--globalconfig',
            globalconfig.stdout.trim(),
            '--no-audit',
            '--no-fund',
          ],
          dirname(tarball),
        ),
        'npm install -g',
      );

      const version = await runCommand(join(prefix, 'bin', 'aegis'), ['--version'], {
        env: cleanEnv(),
      });

      expect(version).toMatchObject({ code: 0, stdout: `${PACKAGE_VERSION}\n` });
    },
    TEST_TIMEOUT_MS,
  );
});
