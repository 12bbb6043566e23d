// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold ${VAR} references on purpose
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { CONFIG_FILE_NAME } from '#shared/config/locate.ts';
import {
  configSchema,
  serviceSchema,
  stepSchema,
  triggerSchema,
  webhookSchema,
  workflowSchema,
} from '#shared/config/schema.ts';
import { runAegis, runAegisInProcess } from '#test/support/cli-process.ts';
import { tempDir, writeConfig } from '#test/support/temp.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', '.aegis.yaml.example');

/** Runs `aegis …` in-process and collects what it prints. */
const aegis = runAegisInProcess;

/** Whether a `.aegis.yaml` sits above `dir`, where the search would find it. */
function strayConfigAbove(dir: string): boolean {
  const parent = dirname(dir);
  return existsSync(join(parent, CONFIG_FILE_NAME)) || (parent !== dir && strayConfigAbove(parent));
}

const VALID = `auth:
  api_key: \${AEGIS_API_KEY}
services:
  qaagent:
    name: QA Agent
    url: \${QA_URL:-http://localhost:8080}
  bugalizer:
    name: Bugalizer
    url: http://localhost:8090
workflows:
  full_pipeline:
    name: Full
    steps:
      - type: discover
        service: qaagent
      - type: submit_bugs
        service: bugalizer
        condition: has_failures
        retries: \${RETRIES:-2}
webhooks:
  - url: https://hooks.test/signed
    secret: \${HOOK_SECRET}
  - url: https://hooks.test/unsigned
    events: ["*"]
`;

const ENV = { AEGIS_API_KEY: 'key-of-the-api-9f8e', HOOK_SECRET: 'whsec_hook-secret-7a6b' };

/** One error of each check (and a warning), so that every check line fails. */
const INVALID = `auth:
  api_key: \${AEGIS_API_KEY}
  keys: [{ name: ci, key: k1, scopes: [run] }, { name: ci, key: k2, scopes: [run] }]
services:
  qaagent:
    name: QA Agent
    url: ftp://localhost:8080
workflows:
  full_pipeline:
    name: Full
    steps:
      - type: deploy
        service: qa
        retires: 2
webhooks:
  - url: https://hooks.test/a
    events: [workflow.done]
  - url: https://hooks.test/a
`;

describe('aegis config validate', () => {
  it('prints one line per check and exits 0 for a valid file', async () => {
    // Prepare
    const path = writeConfig(VALID);

    // Act
    const result = await aegis(['config', 'validate'], { cwd: dirname(path), env: ENV });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `Validating ${path}`,
        '  ✓ YAML syntax',
        '  ✓ environment variables',
        '  ✓ keys and value types',
        '  ✓ API keys and scopes',
        '  ✓ step types and conditions',
        '  ✓ URLs are http(s) with a host',
        "  ✓ every step's service exists",
        '  ✓ webhooks',
        '  ✓ schedules and triggers',
        'Valid: 2 services, 1 workflow, 2 webhooks.',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
  });

  it('lists every error under its check and exits 1', async () => {
    // Prepare
    const path = writeConfig(INVALID);

    // Act
    const result = await aegis(['config', 'validate'], { cwd: dirname(path) });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        `Validating ${path}`,
        '  ✓ YAML syntax',
        '  ✗ environment variables',
        `      ${path}:2:12: auth.api_key: environment variable AEGIS_API_KEY is not set`,
        '  ✗ keys and value types',
        `      ${path}:14:9: workflows.full_pipeline.steps[0].retires: unknown key (did you mean "retries"?)`,
        '  ✗ API keys and scopes',
        `      ${path}:3:56: auth.keys[1].name: the same name as auth.keys[0]: each key needs its own name`,
        '  ✗ step types and conditions',
        `      ${path}:12:15: workflows.full_pipeline.steps[0].type: must be one of discover, test, submit_bugs, verify, report (got "deploy")`,
        '  ✗ URLs are http(s) with a host',
        `      ${path}:7:10: services.qaagent.url: must be an http(s) URL with a host (got "ftp://localhost:8080")`,
        "  ✗ every step's service exists",
        `      ${path}:13:18: workflows.full_pipeline.steps[0].service: unknown service "qa" (known: qaagent)`,
        '  ✗ webhooks',
        `      ${path}:18:10: webhooks[1].url: same URL as webhooks[0]: list all its events in one entry`,
        '  ✓ schedules and triggers',
        `  ! warning: ${path}:17:14: webhooks[0].events[0]: "workflow.done" is not an event type, so nothing will match it (known: workflow.started, step.completed, failure.detected, workflow.completed, workflow.cancelled, *)`,
        'Invalid: 7 errors.',
        '',
      ].join('\n'),
    );
  });

  it('marks the other checks as not run when the YAML does not parse', async () => {
    // Prepare
    const path = writeConfig('aegis:\n  name: "Aegis\n');

    // Act
    const result = await aegis(['config', 'validate', '--path', path], { cwd: tempDir() });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      `Validating ${path}`,
      '  ✗ YAML syntax',
      `      ${path}:3:1: Missing closing "quote`,
      '  - environment variables (not checked: the YAML does not parse)',
      '  - keys and value types (not checked: the YAML does not parse)',
      '  - API keys and scopes (not checked: the YAML does not parse)',
      '  - step types and conditions (not checked: the YAML does not parse)',
      '  - URLs are http(s) with a host (not checked: the YAML does not parse)',
      "  - every step's service exists (not checked: the YAML does not parse)",
      '  - webhooks (not checked: the YAML does not parse)',
      '  - schedules and triggers (not checked: the YAML does not parse)',
      'Invalid: 1 error.',
      '',
    ]);
  });

  it('shows warnings and stays valid', async () => {
    // Prepare
    const path = writeConfig('auth:\n  api_key: ${AEGIS_API_KEY:-}\n');

    // Act
    const result = await aegis(['config', 'validate'], { cwd: dirname(path) });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `  ! warning: ${path}:2:12: auth.api_key: came out empty from its environment variable: authentication is off\n`,
    );
    expect(result.stdout).toContain('Valid: 0 services, 0 workflows, 0 webhooks.\n');
  });

  it('warns about an api_key_env whose variable is unset, and about an empty file, and stays valid', async () => {
    // Prepare
    const keyed = writeConfig(
      'services:\n  qaagent: { name: QA, url: "http://localhost:8080", api_key_env: QAAGENT_API_KEY }\n',
    );
    const empty = writeConfig('# to be written\n');

    // Act
    const unset = await aegis(['config', 'validate'], { cwd: dirname(keyed) });
    const set = await aegis(['config', 'validate'], {
      cwd: dirname(keyed),
      env: { QAAGENT_API_KEY: 'k' },
    });
    const nothing = await aegis(['config', 'validate'], { cwd: dirname(empty) });

    // Assess
    expect(unset.code).toBe(0);
    expect(unset.stdout).toContain(
      `  ! warning: ${keyed}:2:67: services.qaagent.api_key_env: QAAGENT_API_KEY is not set: requests to qaagent carry no X-API-Key\n`,
    );
    expect(set.stdout).not.toContain('warning');
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain(
      `  ! warning: ${empty}: the file is empty (nothing but comments or blank lines): Aegis runs on the built-in defaults, with no services, workflows or webhooks\n`,
    );
    expect(nothing.stdout).toContain('Valid: 0 services, 0 workflows, 0 webhooks.\n');
  });

  describe.each([
    { how: '--path', args: (file: string) => ['--path', file], env: {} },
    { how: '--config', args: (file: string) => ['--config', file], env: {} },
    {
      how: '--path and --config naming the same file',
      args: (file: string) => ['--path', file, '--config', `./${file}`],
      env: {},
    },
    { how: 'AEGIS_CONFIG', args: () => [], env: { AEGIS_CONFIG: 'named.yaml' } },
  ])('a file named by $how', ({ args, env }) => {
    it('is the one validated', async () => {
      // Prepare
      const dir = tempDir();
      writeConfig('colour: blue\n', dir);
      writeFileSync(join(dir, 'named.yaml'), VALID);

      // Act
      const result = await aegis(['config', 'validate', ...args('named.yaml')], {
        cwd: dir,
        env: { ...ENV, ...env },
      });

      // Assess
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Validating ${join(dir, 'named.yaml')}\n`);
    });
  });

  it('refuses --path and --config naming different files', async () => {
    // Prepare
    const dir = tempDir();

    // Act
    const result = await aegis(['config', 'validate', '--path', 'a.yaml', '--config', 'b.yaml'], {
      cwd: dir,
    });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'aegis: --config and --path name different files; give one of them\n',
    );
  });

  it.each([
    { option: '--path', env: {} },
    { option: '--config', env: {} },
  ])('says a file named by $option does not exist', async ({ option }) => {
    // Prepare
    const dir = tempDir();

    // Act
    const result = await aegis(['config', 'validate', option, 'missing.yaml'], { cwd: dir });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `aegis: config file not found: ${join(dir, 'missing.yaml')} (named by ${option})\n`,
    );
  });

  it('exits 1 saying where it looked when there is no file', async ({ skip }) => {
    // Prepare
    const cwd = tempDir();
    if (strayConfigAbove(cwd)) skip('a .aegis.yaml above the temp directory would be found');

    // Act
    const result = await aegis(['config', 'validate'], { cwd });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `aegis: no .aegis.yaml found in ${cwd} or any parent directory; pass --config FILE or set AEGIS_CONFIG\n`,
    );
  });
});

describe('aegis config show', () => {
  it('prints the resolved configuration with secrets as ***, never their values', async () => {
    // Prepare
    const path = writeConfig(VALID);

    // Act
    const result = await aegis(['config', 'show'], {
      cwd: dirname(path),
      env: { ...ENV, QA_URL: 'http://qa.internal:9000' },
    });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(ENV.AEGIS_API_KEY);
    expect(result.stdout).not.toContain(ENV.HOOK_SECRET);
    expect(result.stderr).not.toContain(ENV.AEGIS_API_KEY);
    expect(result.stderr).not.toContain(ENV.HOOK_SECRET);
    const shown = parse(result.stdout);
    expect(shown.auth).toEqual({ api_key: '***', keys: [], protect_reads: false });
    expect(shown.webhooks).toEqual([
      { url: 'https://hooks.test/signed', events: ['workflow.completed'], secret: '***' },
      { url: 'https://hooks.test/unsigned', events: ['*'], secret: '' },
    ]);
    expect(shown.services.qaagent.url).toBe('http://qa.internal:9000');
    expect(shown.workflows.full_pipeline.steps[1]).toEqual({
      type: 'submit_bugs',
      service: 'bugalizer',
      condition: 'has_failures',
      parallel: false,
      retries: 2,
      retry_delay: 1,
      timeout: 30,
      dedupe: false,
      dedupe_days: 7,
    });
    expect(shown.history_db_path).toBe(join(dirname(path), 'aegis_history.db'));
  });

  it('says where the configuration and the history come from', async () => {
    // Prepare
    const path = writeConfig('history_db_path: data/h.db\n');

    // Act
    const result = await aegis(['config', 'show'], {
      cwd: dirname(path),
      env: { AEGIS_DB_PATH: '/srv/aegis/h.db' },
    });

    // Assess
    expect(result.stdout.split('\n').slice(0, 2)).toEqual([
      `# resolved from ${path}`,
      '# history database: /srv/aegis/h.db',
    ]);
    expect(parse(result.stdout).history_db_path).toBe('/srv/aegis/h.db');
  });

  it('leaves empty secrets empty', async () => {
    // Prepare
    const path = writeConfig(
      'auth:\n  api_key: ""\nwebhooks:\n  - url: https://hooks.test/x\n    secret: ${HOOK_SECRET:-}\n',
    );

    // Act
    const result = await aegis(['config', 'show'], { cwd: dirname(path) });

    // Assess
    const shown = parse(result.stdout);
    expect(shown.auth.api_key).toBe('');
    expect(shown.webhooks[0].secret).toBe('');
  });

  it('masks a password or token written in a URL', async () => {
    // Prepare
    const path = writeConfig(`llm:
  ollama_base_url: http://llm:llm-pass-1@llm.test:11434
services:
  qaagent:
    name: QA
    url: https://ci:svc-pass-2@qa.test/
webhooks:
  - url: https://hook:hook-pass-3@hooks.test/x
  - url: https://token-pass-4@hooks.test/y
`);

    // Act
    const result = await aegis(['config', 'show'], { cwd: dirname(path) });

    // Assess
    expect(result.stdout).not.toMatch(/pass-\d/);
    const shown = parse(result.stdout);
    expect(shown.llm.ollama_base_url).toBe('http://***:***@llm.test:11434');
    expect(shown.services.qaagent.url).toBe('https://***:***@qa.test/');
    expect(shown.webhooks[0].url).toBe('https://***:***@hooks.test/x');
    expect(shown.webhooks[1].url).toBe('https://***@hooks.test/y');
  });

  it('masks token-like query parameters in every URL, keeping the rest as written', async () => {
    // Prepare
    const path = writeConfig(`services:
  qaagent:
    name: QA
    url: https://qa.test/api?access_token=tok-pass-1&region=eu
    docs_url: https://docs.test/?sig=sig-pass-2
webhooks:
  - url: https://hooks.test/x?token=hook-pass-3&channel=qa
`);

    // Act
    const result = await aegis(['config', 'show'], { cwd: dirname(path) });

    // Assess
    expect(result.stdout).not.toMatch(/pass-\d/);
    const shown = parse(result.stdout);
    expect(shown.services.qaagent.url).toBe('https://qa.test/api?access_token=***&region=eu');
    expect(shown.services.qaagent.docs_url).toBe('https://docs.test/?sig=***');
    expect(shown.webhooks[0].url).toBe('https://hooks.test/x?token=***&channel=qa');
  });

  it('masks every named key and every secret of a rotation, keeping names and scopes', async () => {
    // Prepare
    const path = writeConfig(`auth:
  protect_reads: true
  keys:
    - { name: dashboard, key: key-pass-1, scopes: [read] }
    - { name: ci, key: key-pass-2, scopes: [read, run] }
webhooks:
  - url: https://hooks.test/x
    secret: [secret-pass-3, secret-pass-4]
`);

    // Act
    const result = await aegis(['config', 'show'], { cwd: dirname(path) });

    // Assess
    expect(result.stdout).not.toMatch(/pass-\d/);
    const shown = parse(result.stdout);
    expect(shown.auth).toEqual({
      api_key: '',
      protect_reads: true,
      keys: [
        { name: 'dashboard', key: '***', scopes: ['read'] },
        { name: 'ci', key: '***', scopes: ['read', 'run'] },
      ],
    });
    expect(shown.webhooks[0].secret).toEqual(['***', '***']);
  });

  it('prints warnings on stderr, keeping stdout valid YAML', async () => {
    // Prepare
    const path = writeConfig('auth:\n  api_key: ${AEGIS_API_KEY:-}\n');

    // Act
    const result = await aegis(['config', 'show'], { cwd: dirname(path) });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `warning: ${path}:2:12: auth.api_key: came out empty from its environment variable: authentication is off\n`,
    );
    expect(() => parse(result.stdout)).not.toThrow();
  });

  it('exits 1 listing every error for an invalid file, printing nothing on stdout', async () => {
    // Prepare
    const path = writeConfig(INVALID);

    // Act
    const result = await aegis(['config', 'show', '--path', path], { cwd: tempDir() });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe('aegis: invalid configuration (7 errors):');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(8);
  });
});

describe('aegis config, as a process', () => {
  it('validates with --path and exits 1 listing every error', async () => {
    // Prepare
    const path = writeConfig(INVALID);

    // Act
    const result = await runAegis(['config', 'validate', '--path', path], { cwd: tempDir() });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Invalid: 7 errors.');
    expect(result.stdout).toContain(
      `${path}:2:12: auth.api_key: environment variable AEGIS_API_KEY is not set`,
    );
    expect(result.stderr).toBe('');
  });

  it('validates the .aegis.yaml it finds upwards and exits 0', async () => {
    // Prepare
    const dir = tempDir();
    writeConfig(VALID, dir);
    const cwd = join(dir, 'sub');
    mkdirSync(cwd);

    // Act
    const result = await runAegis(['config', 'validate'], { cwd, env: ENV });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Valid: 2 services, 1 workflow, 2 webhooks.');
  });

  it('shows the configuration without its secrets', async () => {
    // Prepare
    const path = writeConfig(VALID);

    // Act
    const result = await runAegis(['config', 'show', '--config', path], { env: ENV });

    // Assess
    expect(result.code).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain(ENV.AEGIS_API_KEY);
    expect(`${result.stdout}${result.stderr}`).not.toContain(ENV.HOOK_SECRET);
    expect(parse(result.stdout).auth.api_key).toBe('***');
  });

  describe.each([
    { input: 'a YAML syntax error', file: 'aegis: [1, 2\n', args: [] },
    { input: 'an alias with no anchor', file: 'llm: *nothing\n', args: [] },
    { input: 'a top-level list', file: '- services\n', args: [] },
    { input: 'binary garbage', file: '\u0000\u0001\u00ff{{[[', args: [] },
    { input: 'a missing file', file: null, args: ['--path', 'missing.yaml'] },
    { input: 'a directory', file: null, args: ['--path', '.'] },
  ])('$input', ({ file, args }) => {
    it.each(['validate', 'show'])(
      'makes `config %s` exit 1 without a stack trace',
      async (command) => {
        // Prepare
        const dir = tempDir();
        if (file !== null) writeConfig(file, dir);

        // Act
        const result = await runAegis(['config', command, ...args], { cwd: dir });

        // Assess
        expect(result.code).toBe(1);
        const output = `${result.stdout}${result.stderr}`;
        expect(output).not.toMatch(/^\s+at /m);
        expect(output).not.toMatch(/unexpected error|TypeError|ReferenceError/);
        expect(output.trim()).not.toBe('');
      },
    );
  });
});

describe('.aegis.yaml.example', () => {
  it('passes `aegis config validate` with no environment variable set', async () => {
    // Act
    const result = await runAegis(['config', 'validate', '--path', EXAMPLE], { cwd: tempDir() });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Valid: 2 services, 3 workflows, 1 webhook.');
    expect(result.stdout).not.toContain('✗');
  });

  it('shows every key of the schema', () => {
    // Prepare
    const example = parse(readFileSync(EXAMPLE, 'utf8'));
    const keysOf = (schema: z.ZodObject) => Object.keys(schema.shape).sort();
    const keysUsed = (...items: object[]) => [...new Set(items.flatMap(Object.keys))].sort();

    // Act
    const workflows: { steps: object[] }[] = Object.values(example.workflows);
    const steps = workflows.flatMap((workflow) => workflow.steps);

    // Assess
    expect(keysUsed(example)).toEqual(keysOf(configSchema));
    expect(keysUsed(example.aegis)).toEqual(keysOf(configSchema.shape.aegis.unwrap()));
    expect(keysUsed(example.llm)).toEqual(keysOf(configSchema.shape.llm.unwrap()));
    expect(keysUsed(example.auth)).toEqual(keysOf(configSchema.shape.auth.unwrap()));
    expect(keysUsed(...example.webhooks)).toEqual(keysOf(webhookSchema));
    expect(keysUsed(...Object.values<object>(example.services))).toEqual(keysOf(serviceSchema));
    expect(keysUsed(...workflows)).toEqual(keysOf(workflowSchema));
    expect(keysUsed(...steps)).toEqual(keysOf(stepSchema));
    expect(keysUsed(...Object.values<object>(example.triggers))).toEqual(keysOf(triggerSchema));
    expect(Object.keys(example.services)).toEqual(['qaagent', 'bugalizer']);
    expect(steps.some((step) => 'parallel' in step && step.parallel === true)).toBe(true);
  });

  it('runs full_pipeline as discover, test, submit_bugs and verify on failures, report', async () => {
    // Prepare
    const result = await aegis(['config', 'show', '--path', EXAMPLE], { cwd: tempDir() });

    // Act
    const steps = parse(result.stdout).workflows.full_pipeline.steps as {
      type: string;
      service: string;
      condition?: string;
    }[];

    // Assess
    expect(steps.map((s) => [s.type, s.service, s.condition])).toEqual([
      ['discover', 'qaagent', 'always'],
      ['test', 'qaagent', undefined],
      ['submit_bugs', 'bugalizer', 'has_failures'],
      ['verify', 'qaagent', 'has_failures'],
      ['report', 'qaagent', undefined],
    ]);
  });
});
