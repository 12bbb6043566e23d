import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import { runAegis, runAegisInProcess } from '#test/support/cli-process.ts';
import { tempDir } from '#test/support/temp.ts';
import { startForTest } from '../demo-services/test-client.ts';
import { STARTER_CONFIG } from './starter-config.ts';

/** The starter with its commented-out webhook block turned on, as its comment tells a user to. */
function withWebhookOn(text: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf('# webhooks:');
  expect(start, 'the starter has a commented-out webhooks block').toBeGreaterThan(0);
  let end = start + 1;
  while (lines[end]?.startsWith('#   ')) end++;
  expect(end - start, 'the block has its entry lines').toBeGreaterThan(1);
  return [
    ...lines.slice(0, start),
    ...lines.slice(start, end).map((line) => line.slice(2)),
    ...lines.slice(end),
  ].join('\n');
}

describe('aegis init as a process', () => {
  it('writes a starter that validates, and a second run refuses to overwrite it', async () => {
    // Prepare
    const dir = tempDir();
    const file = join(dir, '.aegis.yaml');

    // Act
    const first = await runAegis(['init'], { cwd: dir });
    const validate = await runAegis(['config', 'validate'], { cwd: dir });
    writeFileSync(file, '# my own edits\n');
    const second = await runAegis(['init'], { cwd: dir });

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Wrote ${file}\n`);
    expect(first.stdout).toMatch(/^ {2}aegis config validate {3,}check it/m);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain(`Validating ${file}\n`);
    expect(validate.stdout).toContain('Valid: 2 services, 1 workflow, 0 webhooks.\n');
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `aegis: ${file} already exists; aegis init does not overwrite it (--force replaces it)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe('# my own edits\n');
  });

  it('replaces an existing file with --force', async () => {
    // Prepare
    const dir = tempDir();
    writeFileSync(join(dir, '.aegis.yaml'), '# old\n');

    // Act
    const result = await runAegis(['init', '--force'], { cwd: dir });

    // Assess
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, '.aegis.yaml'), 'utf8')).toBe(STARTER_CONFIG);
  });

  it('explains itself with --help', async () => {
    // Act
    const help = await runAegis(['init', '--help']);
    const overview = await runAegis(['--help']);

    // Assess
    expect(help.code).toBe(0);
    for (const option of ['--path <file>', '--config <file>', '--force', '--print'])
      expect(help.stdout).toContain(option);
    expect(help.stdout).toContain('Exit status: 0 when the file was written, 1 when it exists');
    expect(overview.stdout).toMatch(/^ {2}init \[options\] +write a commented starter/m);
  });
});

describe('aegis init', () => {
  it('writes where --path says, and the next steps name that file', async () => {
    // Prepare
    const dir = tempDir();
    mkdirSync(join(dir, 'qa'));

    // Act
    const result = await runAegisInProcess(['init', '--path', 'qa/aegis.yaml'], { cwd: dir });
    const validate = await runAegisInProcess(['config', 'validate', '--path', 'qa/aegis.yaml'], {
      cwd: dir,
    });

    // Assess
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'qa', 'aegis.yaml'), 'utf8')).toBe(STARTER_CONFIG);
    expect(result.stdout).toContain('aegis run full_pipeline --config qa/aegis.yaml ');
    expect(validate.code).toBe(0);
  });

  it('names --config in the next steps when $AEGIS_CONFIG points elsewhere', async () => {
    // Prepare
    const dir = tempDir();

    // Act
    const result = await runAegisInProcess(['init'], {
      cwd: dir,
      env: { AEGIS_CONFIG: join(dir, 'missing.yaml') },
    });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('aegis serve --config .aegis.yaml ');
  });

  it.each([
    {
      what: 'a directory that does not exist',
      args: ['--path', 'nowhere/.aegis.yaml'],
      error: (dir: string) =>
        `cannot write ${dir}/nowhere/.aegis.yaml: the directory ${dir}/nowhere does not exist`,
    },
    {
      what: 'a directory',
      args: ['--path', 'qa'],
      error: (dir: string) =>
        `${dir}/qa is a directory: name the file to write (--path DIR/.aegis.yaml)`,
    },
    {
      what: 'a directory, with --force',
      args: ['--path', 'qa', '--force'],
      error: (dir: string) =>
        `${dir}/qa is a directory: name the file to write (--path DIR/.aegis.yaml)`,
    },
    {
      what: 'two different files',
      args: ['--path', 'a.yaml', '--config', 'b.yaml'],
      error: () => '--config and --path name different files; give one of them',
    },
  ])('refuses $what with one line and exit 1', async ({ args, error }) => {
    // Prepare
    const dir = tempDir();
    mkdirSync(join(dir, 'qa'));

    // Act
    const result = await runAegisInProcess(['init', ...args], { cwd: dir });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`aegis: ${error(dir)}\n`);
    expect(result.stdout).toBe('');
  });

  it('prints the starter with --print and writes nothing', async () => {
    // Prepare
    const dir = tempDir();

    // Act
    const result = await runAegisInProcess(['init', '--print'], { cwd: dir });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(STARTER_CONFIG);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('documents the main keys with a comment beside each', () => {
    const config = parseConfig(STARTER_CONFIG, '/starter/.aegis.yaml', {}, '/starter').config;

    expect(config.auth.api_key).toBe('');
    expect(config.webhooks).toEqual([]);
    expect(config.workflows.full_pipeline?.steps.map((step) => step.type)).toEqual([
      'discover',
      'test',
      'submit_bugs',
      'verify',
      'report',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the reference as written in the file
    expect(STARTER_CONFIG).toContain('  api_key: ${AEGIS_API_KEY:-}\n');
    for (const key of ['auth:', 'history_db_path:', 'services:', 'workflows:', '# webhooks:']) {
      const at = STARTER_CONFIG.split('\n').findIndex((line) => line.startsWith(key));
      expect(STARTER_CONFIG.split('\n')[at - 1], `a comment above ${key}`).toMatch(/^# /);
    }
  });

  it('turns its webhook on when the block is uncommented', async () => {
    // Prepare
    const dir = tempDir();
    writeFileSync(join(dir, '.aegis.yaml'), withWebhookOn(STARTER_CONFIG));

    // Act
    const unset = await runAegisInProcess(['config', 'validate'], { cwd: dir });
    const set = await runAegisInProcess(['config', 'validate'], {
      cwd: dir,
      env: { AEGIS_WEBHOOK_URL: 'https://hooks.example.test/aegis' },
    });

    // Assess: the URL is required, so a missing variable is an error, never a silent no-op.
    expect(unset.code).toBe(1);
    expect(unset.stdout).toContain('webhooks[0].url: environment variable AEGIS_WEBHOOK_URL');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('Valid: 2 services, 1 workflow, 1 webhook.\n');
  });

  it('runs full_pipeline as written against the demo services', async () => {
    // Prepare: the demo services on free ports, reached through the starter's ${…_URL:-…} defaults.
    const services = await startForTest();
    const dir = tempDir();
    const env = { QAAGENT_URL: services.qaAgentUrl, BUGALIZER_URL: services.bugTrackerUrl };
    await runAegisInProcess(['init'], { cwd: dir });

    // Act
    const run = await runAegisInProcess(['run', 'full_pipeline', '--json'], { cwd: dir, env });

    // Assess
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      success: boolean;
      steps: { step_type: string; success: boolean; skipped: boolean }[];
    };
    expect(result.success).toBe(true);
    expect(result.steps.map((s) => [s.step_type, s.success, s.skipped])).toEqual([
      ['discover', true, false],
      ['test', true, false],
      ['submit_bugs', true, false],
      ['verify', true, false],
      ['report', true, false],
    ]);
  });
});
