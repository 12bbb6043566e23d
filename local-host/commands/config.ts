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

/** The resolved configuration with every secret, and every credential in a URL, shown as `***`. */
export function redactConfig(config: AegisConfig): AegisConfig {
  const mask = (value: string) => (value === '' ? '' : REDACTED);
  return {
    ...config,
    llm: { ...config.llm, ollama_base_url: redactUrl(config.llm.ollama_base_url) },
    auth: {
      ...config.auth,
      api_key: mask(config.auth.api_key),
      keys: config.auth.keys.map((key) => ({ ...key, key: mask(key.key) })),
    },
    services: Object.fromEntries(
      Object.entries(config.services).map(([key, service]) => [
        key,
        {
          ...service,
          url: redactUrl(service.url),
          repo_url: redactUrl(service.repo_url),
          docs_url: redactUrl(service.docs_url),
        },
      ]),
    ),
    webhooks: config.webhooks.map((webhook) => ({
      ...webhook,
      url: redactUrl(webhook.url),
      secret: typeof webhook.secret === 'string' ? mask(webhook.secret) : webhook.secret.map(mask),
    })),
  };
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
