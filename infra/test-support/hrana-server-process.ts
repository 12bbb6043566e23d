import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import Database from 'libsql';
import type { HranaServerOptions } from './hrana-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Lets Node 20 load the server's TypeScript (infra/register-ts.mjs: esbuild, types stripped). */
const REGISTER = join(ROOT, 'infra', 'register-ts.mjs');
const MAIN = join(import.meta.dirname, 'hrana-server-main.ts');

export interface HranaServerProcess {
  /** `http://127.0.0.1:<port>`: what AEGIS_DB_URL is set to. */
  url: string;
  /** The database file, read by `query`. */
  path: string;
  pid: number;
  /** Runs SQL on the database file directly (to look at what was committed). */
  query(sql: string): Record<string, unknown>[];
  /** Stops the server (SIGTERM) and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * The Hrana test server in a child process, for tests where several Aegis
 * processes share one server and the test's own process may block (a
 * synchronous spawn, a busy loop) or end abruptly: the server keeps
 * answering the others. It exits with the test process too.
 */
export async function startHranaServerProcess(
  options: HranaServerOptions = {},
  startTimeoutMs = 15_000,
): Promise<HranaServerProcess> {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    process.execPath,
    ['--import', REGISTER, MAIN, JSON.stringify(options)],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = once(child, 'exit');
  const { url, path } = await new Promise<{ url: string; path: string }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`the Hrana server process did not start within ${startTimeoutMs} ms: ${stderr}`),
      );
    }, startTimeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n', 2);
      if (line.length < 2) return;
      clearTimeout(timer);
      resolve(JSON.parse(line[0] as string) as { url: string; path: string });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Hrana server process exited with ${code}: ${stderr}`));
    });
  });
  let reader: Database.Database | undefined;
  return {
    url,
    path,
    pid: child.pid as number,
    query(sql) {
      reader ??= new Database(path, { timeout: 0 });
      return reader.prepare(sql).all() as Record<string, unknown>[];
    },
    async close() {
      reader?.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
