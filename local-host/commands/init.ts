import { statSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE_NAME, locateConfig } from '#shared/config/locate.ts';
import { UserFacingError } from '#shared/errors.ts';
import { type CliIO, EXIT } from '../io.ts';
import { fileOption } from './config.ts';
import { STARTER_CONFIG } from './starter-config.ts';

interface InitOptions {
  path?: string;
  config?: string;
  force?: boolean;
  print?: boolean;
}

/** Writes the starter `.aegis.yaml`; an existing file is kept unless `--force`. */
export function initCommand(io: CliIO, options: InitOptions): number {
  if (options.print) {
    io.stdout.write(STARTER_CONFIG);
    return EXIT.ok;
  }
  const { explicitPath } = fileOption(options, io.cwd);
  const path = resolve(io.cwd, explicitPath ?? CONFIG_FILE_NAME);
  writeStarter(path, options.force === true);
  const flag = foundWithoutOption(io, path) ? '' : ` --config ${relative(io.cwd, path)}`;
  const next = [
    [`aegis config validate${flag}`, 'check it, and again after every edit'],
    ['aegis demo-services', 'in another terminal: a simulated QA agent and bug tracker'],
    [`aegis run full_pipeline${flag}`, 'run the workflow against them'],
    [`aegis serve${flag}`, 'the API and the dashboard on http://localhost:8000'],
  ] as const;
  const width = Math.max(...next.map(([command]) => command.length));
  io.stdout.write(`Wrote ${path}\nNext:\n`);
  for (const [command, what] of next) io.stdout.write(`  ${command.padEnd(width)}   ${what}\n`);
  return EXIT.ok;
}

function writeStarter(path: string, force: boolean): void {
  try {
    // 'wx' fails when the file exists: no window between a check and the write.
    writeFileSync(path, STARTER_CONFIG, { flag: force ? 'w' : 'wx' });
  } catch (error) {
    throw new UserFacingError(whyNotWritten(path, (error as NodeJS.ErrnoException).code));
  }
}

function whyNotWritten(path: string, code: string | undefined): string {
  if (code === 'EISDIR' || (code === 'EEXIST' && statSync(path).isDirectory()))
    return `${path} is a directory: name the file to write (--path DIR/${CONFIG_FILE_NAME})`;
  switch (code) {
    case 'EEXIST':
      return `${path} already exists; aegis init does not overwrite it (--force replaces it)`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `cannot write ${path}: the directory ${dirname(path)} does not exist`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `cannot write ${path}: permission denied`;
    default:
      return `cannot write ${path}: ${code ?? 'unknown error'}`;
  }
}

/** Whether the other commands, run from here without --config, read this file. */
function foundWithoutOption(io: CliIO, path: string): boolean {
  try {
    return locateConfig({ env: io.env, cwd: io.cwd }).path === path;
  } catch {
    return false; // $AEGIS_CONFIG names a file that does not exist
  }
}

export function registerInit(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('init')
    .description(`write a commented starter ${CONFIG_FILE_NAME} in the current directory`)
    .option('--path <file>', `the file to write (default: ./${CONFIG_FILE_NAME})`)
    .option('--config <file>', 'the same as --path')
    .option('--force', 'replace the file if it exists')
    .option('--print', 'print the starter configuration on stdout instead of writing a file')
    .addHelpText(
      'after',
      `
The starter has two services (a QA agent and a bug tracker, at the addresses
\`aegis demo-services\` listens on), the workflow full_pipeline
(discover, test, submit_bugs, verify, report), auth from $AEGIS_API_KEY and a
webhook to turn on; it passes \`aegis config validate\` as written.

Exit status: 0 when the file was written, 1 when it exists (without --force)
or cannot be written.`,
    )
    .action((options: InitOptions) => setExit(initCommand(io, options)));
}
