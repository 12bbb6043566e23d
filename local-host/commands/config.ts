import { resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { analyzeConfig } from '#shared/config/analyze.ts';
import { CHECKS, type CheckName, formatIssue } from '#shared/config/issues.ts';
import { loadConfig, readConfigText } from '#shared/config/load.ts';
import { describeSearch, locateConfig } from '#shared/config/locate.ts';
import type { AegisConfig } from '#shared/config/schema.ts';
import { describeTarget, resolveDatabaseTarget } from '#shared/db/target.ts';
import { UserFacingError } from '#shared/errors.ts';
import { REDACTED, redactUrl } from '#shared/redact.ts';
import { paintFor, SYMBOL } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { printWarnings } from './common.ts';

interface PathOptions {
  config?: string;
  path?: string;
}

/** `--path` (the original's name) and `--config` (every other command's) are the same option. */
export function fileOption(
  options: PathOptions,
  cwd: string,
): { explicitPath: string | undefined; explicitOption: string } {
  const { config, path } = options;
  if (config !== undefined && path !== undefined && resolve(cwd, config) !== resolve(cwd, path))
    throw new UserFacingError('--config and --path name different files; give one of them');
  return path !== undefined
    ? { explicitPath: path, explicitOption: '--path' }
    : { explicitPath: config, explicitOption: '--config' };
}

/** SPEC §1 validation: one line per check, every error under its check. */
export function validateCommand(io: CliIO, options: PathOptions): number {
  const location = locateConfig({ ...fileOption(options, io.cwd), env: io.env, cwd: io.cwd });
  if (location.path === null) throw new UserFacingError(describeSearch(location));
  const report = analyzeConfig(readConfigText(location.path), io.env, { checkKeyVariables: true });
  const paint = paintFor(io.stdout, io.env);
  io.stdout.write(`Validating ${location.path}\n`);
  const yamlFailed = report.errors.some((e) => e.check === 'yaml');
  for (const [check, title] of Object.entries(CHECKS) as [CheckName, string][]) {
    const errors = report.errors.filter((e) => e.check === check);
    if (yamlFailed && check !== 'yaml') {
      io.stdout.write(`  ${paint.dim(`- ${title} (not checked: the YAML does not parse)`)}\n`);
      continue;
    }
    io.stdout.write(
      `  ${errors.length === 0 ? paint.green(SYMBOL.passed) : paint.red(SYMBOL.failed)} ${title}\n`,
    );
    for (const error of errors) io.stdout.write(`      ${formatIssue(error, location.path)}\n`);
  }
  for (const warning of report.warnings)
    io.stdout.write(
      `  ${paint.yellow(SYMBOL.warning)} warning: ${formatIssue(warning, location.path)}\n`,
    );
  if (report.config === null) {
    const count = report.errors.length;
    io.stdout.write(paint.red(`Invalid: ${count} ${count === 1 ? 'error' : 'errors'}.\n`));
    return EXIT.failure;
  }
  const { services, workflows, webhooks } = report.config;
  const counts = [
    plural(Object.keys(services).length, 'service'),
    plural(Object.keys(workflows).length, 'workflow'),
    plural(webhooks.length, 'webhook'),
  ];
  io.stdout.write(paint.green(`Valid: ${counts.join(', ')}.\n`));
  return EXIT.ok;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Keys whose values are credentials, wherever they sit in the configuration. */
const CREDENTIAL_KEYS = new Set(['api_key', 'key', 'secret']);

/**
 * The resolved configuration as `config show` prints it: every credential
 * (`api_key`, a named key's `key`, a webhook's or a trigger's `secret`, each
 * entry of a secret list) as `***`, and credentials inside any URL masked.
 * It walks the whole tree, so a key added to the schema later is covered.
 */
export function redactConfig(config: AegisConfig): AegisConfig {
  return redactTree(config, undefined) as AegisConfig;
}

function redactTree(value: unknown, key: string | undefined): unknown {
  const credential = key !== undefined && CREDENTIAL_KEYS.has(key);
  if (typeof value === 'string')
    return credential
      ? value === ''
        ? ''
        : REDACTED
      : /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
        ? redactUrl(value)
        : value;
  if (Array.isArray(value))
    return value.map((item) => redactTree(item, credential ? key : undefined));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactTree(v, k)]));
  return value;
}

export function showCommand(io: CliIO, options: PathOptions): number {
  const loaded = loadConfig({ ...fileOption(options, io.cwd), env: io.env, cwd: io.cwd });
  printWarnings(io, loaded.warnings, loaded.source);
  const database = describeTarget(resolveDatabaseTarget(loaded.config.history_db_path, io.env));
  io.stdout.write(`# resolved from ${loaded.source}\n# history database: ${database}\n`);
  io.stdout.write(stringify(redactConfig(loaded.config)));
  return EXIT.ok;
}

export function registerConfig(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const config = program.command('config').description('check or print the configuration');
  const fileOptions = (command: Command) =>
    command
      .option(
        '--path <file>',
        'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml)',
      )
      .option('--config <file>', 'the same as --path');
  fileOptions(
    config.command('validate').description('check the configuration and list every error'),
  )
    .addHelpText('after', '\nExit status: 0 when the configuration is valid, 1 otherwise.')
    .action((options: PathOptions) => setExit(validateCommand(io, options)));
  fileOptions(
    config.command('show').description('print the resolved configuration, secrets as ***'),
  ).action((options: PathOptions) => setExit(showCommand(io, options)));
}
