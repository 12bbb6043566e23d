// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold ${VAR} references on purpose
import { describe, expect, it } from 'vitest';
import { analyzeConfig } from './analyze.ts';
import { defaultConfig, isHttpUrl } from './schema.ts';

/** `path: message` of every error, in the order reported. */
function errorsOf(yaml: string, env: Record<string, string> = {}): string[] {
  return analyzeConfig(yaml, env).errors.map((e) => `${e.path}: ${e.message}`);
}

/** A valid file with one service, one workflow and one step, where `step` adds keys to the step. */
function withStep(step: string): string {
  return `services:
  qaagent:
    name: QA Agent
    url: http://localhost:8080
workflows:
  full:
    name: Full
    steps:
      - type: test
        service: qaagent
${step
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}
`;
}

const DEFAULTS = {
  aegis: { name: 'Aegis', version: '0.1.0' },
  llm: {
    ollama_base_url: 'http://localhost:11434',
    default_model: 'qwen2.5-coder:7b',
    timeout: 120,
  },
  auth: { api_key: '', keys: [], protect_reads: false },
  history_db_path: 'aegis_history.db',
  history_max_records: 0,
  event_log_size: 100,
  webhooks: [],
  services: {},
  workflows: {},
  triggers: {},
};

/** What a workflow gets for the keys it leaves out. */
const WORKFLOW_DEFAULTS = {
  on_interrupt: 'none',
  schedule: [],
  timezone: 'UTC',
  catch_up: false,
};

describe('the configuration schema', () => {
  describe('defaults', () => {
    it('are the built-in configuration of SPEC §1', () => {
      // Act
      const config = defaultConfig();

      // Assess
      expect(config).toEqual(DEFAULTS);
    });

    it('fill in every optional key of a service, workflow step and webhook', () => {
      // Prepare
      const yaml = `services:
  qaagent:
    name: QA Agent
    url: http://localhost:8080
workflows:
  full:
    name: Full
    steps:
      - type: discover
        service: qaagent
  empty:
    name: Nothing yet
webhooks:
  - url: https://hooks.test/aegis
`;

      // Act
      const { config, errors } = analyzeConfig(yaml, {});

      // Assess
      expect(errors).toEqual([]);
      expect(config).toEqual({
        ...DEFAULTS,
        webhooks: [{ url: 'https://hooks.test/aegis', events: ['workflow.completed'], secret: '' }],
        services: {
          qaagent: {
            name: 'QA Agent',
            url: 'http://localhost:8080',
            description: '',
            health_endpoint: '/health',
            features: [],
            repo_url: '',
            docs_url: '',
          },
        },
        workflows: {
          full: {
            name: 'Full',
            steps: [
              {
                type: 'discover',
                service: 'qaagent',
                parallel: false,
                retries: 0,
                retry_delay: 1,
                timeout: 30,
                dedupe: false,
                dedupe_days: 7,
              },
            ],
            ...WORKFLOW_DEFAULTS,
          },
          empty: { name: 'Nothing yet', steps: [], ...WORKFLOW_DEFAULTS },
        },
      });
    });

    it('keep what the file sets', () => {
      // Prepare
      const yaml = `aegis: { name: Mine, version: "2.0" }
llm: { ollama_base_url: "https://llm.test", default_model: m, timeout: 5 }
auth: { api_key: k }
history_db_path: /data/h.db
history_max_records: 50
event_log_size: 1
`;

      // Act
      const { config } = analyzeConfig(yaml, {});

      // Assess
      expect(config).toEqual({
        ...DEFAULTS,
        aegis: { name: 'Mine', version: '2.0' },
        llm: { ollama_base_url: 'https://llm.test', default_model: 'm', timeout: 5 },
        auth: { api_key: 'k', keys: [], protect_reads: false },
        history_db_path: '/data/h.db',
        history_max_records: 50,
        event_log_size: 1,
      });
    });

    describe.each([
      { key: 'services:', path: 'services', value: {} },
      { key: 'workflows:', path: 'workflows', value: {} },
      { key: 'webhooks:', path: 'webhooks', value: [] },
      { key: 'auth:', path: 'auth', value: DEFAULTS.auth },
      { key: 'auth:\n  api_key:', path: 'auth', value: DEFAULTS.auth },
      { key: 'auth:\n  keys:', path: 'auth', value: DEFAULTS.auth },
      { key: 'llm:\n  timeout:', path: 'llm', value: DEFAULTS.llm },
      { key: 'event_log_size:', path: 'event_log_size', value: 100 },
    ])('a known key written without a value ($key)', ({ key, path, value }) => {
      it('takes its default, as if it were left out', () => {
        // Act
        const { config, errors } = analyzeConfig(`${key}\n`, {});

        // Assess
        expect(errors).toEqual([]);
        expect(config?.[path as keyof typeof DEFAULTS]).toEqual(value);
      });
    });
  });

  describe('unknown keys', () => {
    describe.each([
      { yaml: 'servcies: {}', path: 'servcies', hint: 'did you mean "services"?' },
      { yaml: 'aegis:\n  nmae: x', path: 'aegis.nmae', hint: 'did you mean "name"?' },
      { yaml: 'llm:\n  timout: 3', path: 'llm.timout', hint: 'did you mean "timeout"?' },
      { yaml: 'auth:\n  apikey: k', path: 'auth.apikey', hint: 'did you mean "api_key"?' },
      {
        yaml: 'webhooks:\n  - url: http://h.test\n    secrte: s',
        path: 'webhooks[0].secrte',
        hint: 'did you mean "secret"?',
      },
      {
        yaml: 'services:\n  qa:\n    name: Q\n    url: http://q.test\n    health_endpiont: /h',
        path: 'services.qa.health_endpiont',
        hint: 'did you mean "health_endpoint"?',
      },
      {
        yaml: 'workflows:\n  full:\n    name: F\n    stpes: []',
        path: 'workflows.full.stpes',
        hint: 'did you mean "steps"?',
      },
      {
        yaml: withStep('retires: 2'),
        path: 'workflows.full.steps[0].retires',
        hint: 'did you mean "retries"?',
      },
      {
        yaml: 'colour: blue',
        path: 'colour',
        hint: 'known keys: aegis, llm, auth, history_db_path, history_max_records, event_log_size, webhooks, services, workflows, triggers',
      },
      {
        yaml: 'auth:\n  password: p',
        path: 'auth.password',
        hint: 'known keys: api_key, keys, protect_reads',
      },
      {
        yaml: 'constructor: 1',
        path: 'constructor',
        hint: 'known keys: aegis, llm, auth, history_db_path, history_max_records, event_log_size, webhooks, services, workflows, triggers',
      },
    ])('$path', ({ yaml, path, hint }) => {
      it('is an error naming its path, with a suggestion', () => {
        // Act
        const errors = errorsOf(yaml);

        // Assess
        expect(errors).toEqual([`${path}: unknown key (${hint})`]);
      });
    });

    it('is an error even when written without a value', () => {
      // Act
      const errors = errorsOf(withStep('retires:'));

      // Assess
      expect(errors).toEqual([
        'workflows.full.steps[0].retires: unknown key (did you mean "retries"?)',
      ]);
    });

    it('points at the key itself', () => {
      // Act
      const [error] = analyzeConfig(withStep('retires: 2'), {}).errors;

      // Assess
      expect(error).toMatchObject({ check: 'schema', line: 11, column: 9 });
    });
  });

  describe('required keys', () => {
    describe.each([
      {
        yaml: 'services:\n  qa:\n    url: http://q.test',
        error: 'services.qa.name: is required',
      },
      { yaml: 'services:\n  qa:\n    name: Q', error: 'services.qa.url: is required' },
      {
        yaml: 'services:\n  qa:\n    name:\n    url: http://q.test',
        error: 'services.qa.name: is required',
      },
      { yaml: 'workflows:\n  w:\n    steps: []', error: 'workflows.w.name: is required' },
      {
        yaml: 'services:\n  qa: {name: Q, url: "http://q.test"}\nworkflows:\n  w:\n    name: W\n    steps:\n      - service: qa',
        error:
          'workflows.w.steps[0].type: is required (one of discover, test, submit_bugs, verify, report)',
      },
      {
        yaml: 'workflows:\n  w:\n    name: W\n    steps:\n      - type: report',
        error: 'workflows.w.steps[0].service: is required',
      },
      { yaml: 'webhooks:\n  - events: ["*"]', error: 'webhooks[0].url: is required' },
    ])('$error', ({ yaml, error }) => {
      it('is reported when the key is missing', () => {
        // Act
        const errors = errorsOf(yaml);

        // Assess
        expect(errors).toEqual([error]);
      });
    });
  });

  describe('types', () => {
    describe.each([
      {
        yaml: '- a\n- b',
        error:
          ': the configuration must be a mapping of keys such as services and workflows (got ["a","b"])',
      },
      {
        yaml: 'just text',
        error:
          ': the configuration must be a mapping of keys such as services and workflows (got "just text")',
      },
      {
        yaml: 'aegis:\n  version: 1.0',
        error: 'aegis.version: must be a string (put it in quotes) (got 1)',
      },
      { yaml: 'aegis: Aegis', error: 'aegis: must be a mapping of name and version (got "Aegis")' },
      { yaml: 'auth: 5', error: 'auth: must be a mapping of api_key, keys and protect_reads' },
      {
        yaml: 'services: [qaagent]',
        error: 'services: must be a mapping of keys to entries (got ["qaagent"])',
      },
      {
        yaml: 'services:\n  qa:',
        error: 'services.qa: must be a mapping of service keys (name, url, …) (got null)',
      },
      {
        yaml: 'services:\n  qa:\n    name: Q\n    url: http://q.test\n    features: Route Discovery',
        error: 'services.qa.features: must be a list of strings (got "Route Discovery")',
      },
      {
        yaml: 'services:\n  qa:\n    name: Q\n    url: http://q.test\n    features: [1]',
        error: 'services.qa.features[0]: must be a string (put it in quotes) (got 1)',
      },
      {
        yaml: 'services:\n  qa:\n    name: [Q]\n    url: http://q.test',
        error: 'services.qa.name: must be a string (got ["Q"])',
      },
      {
        yaml: 'workflows:\n  w: []',
        error:
          'workflows.w: must be a mapping of workflow keys (name, steps, concurrency, schedule, …) (got [])',
      },
      {
        yaml: 'workflows:\n  w:\n    name: W\n    steps: discover',
        error: 'workflows.w.steps: must be a list of steps (got "discover")',
      },
      {
        yaml: 'workflows:\n  w:\n    name: W\n    steps: [discover]',
        error:
          'workflows.w.steps[0]: must be a mapping of step keys (type, service, …) (got "discover")',
      },
      {
        yaml: withStep('parallel: 1'),
        error: 'workflows.full.steps[0].parallel: must be true or false (got 1)',
      },
      {
        yaml: withStep('retries: many'),
        error: 'workflows.full.steps[0].retries: must be an integer (got "many")',
      },
      {
        yaml: withStep('timeout: [1]'),
        error: 'workflows.full.steps[0].timeout: must be a number of seconds (got [1])',
      },
      {
        yaml: 'webhooks: {url: "http://h.test"}',
        error: 'webhooks: must be a list of webhooks (got {"url":"http://h.test"})',
      },
      {
        yaml: 'webhooks:\n  - https://h.test',
        error:
          'webhooks[0]: must be a mapping of webhook keys (url, events, secret) (got "https://h.test")',
      },
      {
        yaml: 'webhooks:\n  - url: http://h.test\n    events: workflow.completed',
        error: 'webhooks[0].events: must be a list of event types (got "workflow.completed")',
      },
      {
        yaml: 'llm: []',
        error: 'llm: must be a mapping of ollama_base_url, default_model and timeout (got [])',
      },
      {
        yaml: 'services:\n  qa:\n    name: Q\n    url: 8080',
        error: 'services.qa.url: must be a string (put it in quotes) (got 8080)',
      },
      { yaml: 'history_db_path: [a]', error: 'history_db_path: must be a string (got ["a"])' },
    ])('$error', ({ yaml, error }) => {
      it('is reported', () => {
        // Act
        const errors = errorsOf(yaml);

        // Assess
        expect(errors).toEqual([error]);
      });
    });

    describe.each([
      { yaml: 'auth:\n  api_key: [hunter2]', path: 'auth.api_key' },
      { yaml: 'auth:\n  api_key: 123456', path: 'auth.api_key' },
      {
        yaml: 'webhooks:\n  - url: http://h.test\n    secret: {k: hunter2}',
        path: 'webhooks[0].secret',
      },
    ])('a secret of the wrong type at $path', ({ yaml, path }) => {
      it('is an error that does not repeat the value', () => {
        // Act
        const errors = errorsOf(yaml);

        // Assess
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(
          new RegExp(`^${path.replace(/[[\].]/g, '\\$&')}: must be a string`),
        );
        expect(errors[0]).not.toMatch(/hunter2|123456/);
      });
    });
  });

  describe('ranges', () => {
    describe.each([
      { key: 'retries: 0', error: null },
      { key: 'retries: 10', error: null },
      { key: 'retries: -1', error: 'retries: must be ≥ 0 (got -1)' },
      { key: 'retries: 11', error: 'retries: must be ≤ 10 (got 11)' },
      { key: 'retries: 1.5', error: 'retries: must be an integer (got 1.5)' },
      { key: 'retry_delay: 0', error: null },
      { key: 'retry_delay: 0.25', error: null },
      { key: 'retry_delay: -0.5', error: 'retry_delay: must be ≥ 0 (got -0.5)' },
      { key: 'timeout: 0.1', error: null },
      { key: 'timeout: 0', error: 'timeout: must be > 0 (got 0)' },
      { key: 'timeout: -1', error: 'timeout: must be > 0 (got -1)' },
    ])('a step with $key', ({ key, error }) => {
      it(error === null ? 'is valid' : 'is an error naming the key path', () => {
        // Act
        const errors = errorsOf(withStep(key));

        // Assess
        expect(errors).toEqual(error === null ? [] : [`workflows.full.steps[0].${error}`]);
      });
    });

    describe.each([
      { yaml: 'history_max_records: 0', error: null },
      { yaml: 'history_max_records: 1000000', error: null },
      { yaml: 'history_max_records: -1', error: 'history_max_records: must be ≥ 0 (got -1)' },
      {
        yaml: 'history_max_records: 2.5',
        error: 'history_max_records: must be an integer (got 2.5)',
      },
      { yaml: 'event_log_size: 1', error: null },
      { yaml: 'event_log_size: 0', error: 'event_log_size: must be ≥ 1 (got 0)' },
      { yaml: 'llm:\n  timeout: 0', error: 'llm.timeout: must be > 0 (got 0)' },
    ])('$yaml', ({ yaml, error }) => {
      it(error === null ? 'is valid' : 'is an error naming the key', () => {
        // Act
        const errors = errorsOf(yaml);

        // Assess
        expect(errors).toEqual(error === null ? [] : [error]);
      });
    });
  });

  describe('step types and conditions', () => {
    it.each(['discover', 'test', 'submit_bugs', 'verify', 'report'])(
      'accepts the step type %s',
      (type) => {
        // Act
        const errors = errorsOf(withStep('').replace('type: test', `type: ${type}`));

        // Assess
        expect(errors).toEqual([]);
      },
    );

    it.each(['has_failures', 'on_success', 'on_failure', 'always'])(
      'accepts the condition %s',
      (condition) => {
        // Act
        const errors = errorsOf(withStep(`condition: ${condition}`));

        // Assess
        expect(errors).toEqual([]);
      },
    );

    it('reports an unknown step type under its own check, listing the known ones', () => {
      // Act
      const { errors } = analyzeConfig(withStep('').replace('type: test', 'type: deploy'), {});

      // Assess
      expect(errors).toEqual([
        expect.objectContaining({
          check: 'step_types',
          path: 'workflows.full.steps[0].type',
          message: 'must be one of discover, test, submit_bugs, verify, report (got "deploy")',
        }),
      ]);
    });

    it('reports an unknown condition under its own check, listing the known ones', () => {
      // Act
      const { errors } = analyzeConfig(withStep('condition: sometimes'), {});

      // Assess
      expect(errors).toEqual([
        expect.objectContaining({
          check: 'step_types',
          path: 'workflows.full.steps[0].condition',
          message: 'must be one of has_failures, on_success, on_failure, always (got "sometimes")',
        }),
      ]);
    });
  });

  describe('URLs', () => {
    describe.each([
      'ftp://files.test/x',
      'file:///etc/passwd',
      'http://',
      'https://',
      'localhost:8080',
      '//qa.test',
      'qa.test',
      '',
    ])('%j', (url) => {
      it.each([
        {
          yaml: `services:\n  qa:\n    name: Q\n    url: "${url}"`,
          path: 'services.qa.url',
        },
        { yaml: `webhooks:\n  - url: "${url}"`, path: 'webhooks[0].url' },
        { yaml: `llm:\n  ollama_base_url: "${url}"`, path: 'llm.ollama_base_url' },
      ])('is an error as $path', ({ yaml, path }) => {
        // Act
        const { errors } = analyzeConfig(yaml, {});

        // Assess
        expect(errors).toEqual([
          expect.objectContaining({
            check: 'urls',
            path,
            message: `must be an http(s) URL with a host (got ${JSON.stringify(url)})`,
          }),
        ]);
      });
    });

    it.each(['repo_url', 'docs_url'])('accepts "" or an http(s) URL as %s, nothing else', (key) => {
      // Prepare
      const service = (value: string) =>
        `services:\n  qa:\n    name: Q\n    url: http://q.test\n    ${key}: "${value}"`;

      // Act
      const empty = errorsOf(service(''));
      const link = errorsOf(service('https://github.com/x/y'));
      const bad = analyzeConfig(service('github.com/x/y'), {}).errors;

      // Assess
      expect(empty).toEqual([]);
      expect(link).toEqual([]);
      expect(bad).toEqual([
        expect.objectContaining({
          check: 'urls',
          path: `services.qa.${key}`,
          message: 'must be "" or an http(s) URL with a host (got "github.com/x/y")',
        }),
      ]);
    });
  });

  describe('isHttpUrl', () => {
    it.each([
      ['http://localhost:8080', true],
      ['https://qa.test/path?q=1', true],
      ['http://127.0.0.1', true],
      ['HTTP://QA.TEST', true],
      ['ftp://qa.test', false],
      ['http://', false],
      ['not a url', false],
    ])('%s → %s', (url, expected) => {
      // Act
      const result = isHttpUrl(url);

      // Assess
      expect(result).toBe(expected);
    });
  });

  describe('auth keys (SPEC §15)', () => {
    it('reads named keys with their scopes, and protect_reads', () => {
      // Prepare
      const yaml = `auth:
  api_key: k-default
  protect_reads: \${PROTECT}
  keys:
    - { name: dashboard, key: k-dash, scopes: [read] }
    - { name: ci, key: "\${CI_KEY}", scopes: [read, run] }
`;

      // Act
      const report = analyzeConfig(yaml, { PROTECT: 'true', CI_KEY: 'k-ci' });

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.config?.auth).toEqual({
        api_key: 'k-default',
        protect_reads: true,
        keys: [
          { name: 'dashboard', key: 'k-dash', scopes: ['read'] },
          { name: 'ci', key: 'k-ci', scopes: ['read', 'run'] },
        ],
      });
    });

    const key = (name: string, value: string, scopes = '[read]') =>
      `    - { name: ${name}, key: ${value}, scopes: ${scopes} }`;
    const auth = (...lines: string[]) => `auth:\n${lines.join('\n')}\n`;

    describe.each([
      {
        case: 'two keys with the same name',
        yaml: auth('  keys:', key('ci', 'secret-value-1'), key('ci', 'secret-value-2')),
        errors: ['auth.keys[1].name: the same name as auth.keys[0]: each key needs its own name'],
      },
      {
        case: 'a key named default next to auth.api_key',
        yaml: auth('  api_key: secret-value-0', '  keys:', key('default', 'secret-value-1')),
        errors: ['auth.keys[0].name: "default" is the name of auth.api_key: choose another name'],
      },
      {
        case: 'two keys with the same value',
        yaml: auth('  keys:', key('a', 'secret-value-1'), key('b', 'secret-value-1')),
        errors: ['auth.keys[1].key: the same key as auth.keys[0]: each key must be different'],
      },
      {
        case: 'a key with the value of auth.api_key',
        yaml: auth('  api_key: secret-value-1', '  keys:', key('a', 'secret-value-1')),
        errors: ['auth.keys[0].key: the same key as auth.api_key: each key must be different'],
      },
      {
        case: 'an unknown scope',
        yaml: auth('  keys:', key('a', 'secret-value-1', '[read, write]')),
        errors: ['auth.keys[0].scopes[1]: must be one of read, run, admin (got "write")'],
      },
      {
        case: 'no scopes',
        yaml: auth('  keys:', key('a', 'secret-value-1', '[]')),
        errors: ['auth.keys[0].scopes: must list at least one scope (read, run, admin) (got [])'],
      },
      {
        case: 'scopes left out',
        yaml: auth('  keys:', '    - { name: a, key: secret-value-1 }'),
        errors: ['auth.keys[0].scopes: must be a list of scopes (read, run, admin)'],
      },
      {
        case: 'an empty key',
        yaml: auth('  keys:', key('a', '""')),
        errors: ['auth.keys[0].key: must not be empty'],
      },
      {
        case: 'an empty key from an empty variable',
        yaml: auth('  keys:', key('a', '"${CI_KEY:-}"')),
        errors: ['auth.keys[0].key: must not be empty'],
      },
      {
        case: 'an empty name',
        yaml: auth('  keys:', key('""', 'secret-value-1')),
        errors: ['auth.keys[0].name: must not be empty (got "")'],
      },
      {
        case: 'a key written as plain text',
        yaml: auth('  keys: [secret-value-1]'),
        errors: ['auth.keys[0]: must be a mapping of key fields (name, key, scopes)'],
      },
      {
        case: 'keys written as one text',
        yaml: auth('  keys: secret-value-1'),
        errors: ['auth.keys: must be a list of keys'],
      },
      {
        case: 'auth written as a key',
        yaml: 'auth: secret-value-1\n',
        errors: ['auth: must be a mapping of api_key, keys and protect_reads'],
      },
      {
        case: 'protect_reads with no key holding read',
        yaml: auth('  protect_reads: true', '  keys:', key('ci', 'secret-value-1', '[run, admin]')),
        errors: [
          `auth.protect_reads: is true but no key holds the read scope, so every read would be refused: set auth.api_key or add "read" to a key's scopes (read, run, admin)`,
        ],
      },
      {
        case: 'protect_reads with no key at all',
        yaml: auth('  protect_reads: "${PROTECT:-true}"'),
        errors: [expect.stringMatching(/^auth\.protect_reads: is true but no key holds the read/)],
      },
      {
        case: 'protect_reads that is not a flag',
        yaml: auth('  protect_reads: sometimes'),
        errors: ['auth.protect_reads: must be true or false (got "sometimes")'],
      },
    ])('$case', ({ yaml, errors }) => {
      it('is an error naming its key path, never a key', () => {
        // Act
        const report = analyzeConfig(yaml, {});

        // Assess
        expect(report.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(errors);
        expect(report.errors.every((e) => e.line !== undefined)).toBe(true);
        expect(JSON.stringify(report.errors)).not.toContain('secret-value');
      });
    });

    it.each([
      { case: 'auth.api_key', yaml: auth('  protect_reads: true', '  api_key: k') },
      {
        case: 'a key with read',
        yaml: auth('  protect_reads: true', '  keys:', key('ci', 'k', '[run]'), key('d', 'k2')),
      },
      {
        case: 'an api_key whose variable is missing (that is its own error)',
        yaml: auth('  protect_reads: true', '  api_key: ${AEGIS_API_KEY}'),
      },
    ])('protect_reads is satisfied by $case', ({ yaml }) => {
      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.errors.filter((e) => e.check === 'auth')).toEqual([]);
    });
  });

  describe('webhook secrets (SPEC §15 rotation)', () => {
    const hook = (secret: string) => `webhooks:\n  - url: http://h.test\n    secret: ${secret}\n`;

    it.each([
      { secret: '""', value: '' },
      { secret: 'one', value: 'one' },
      { secret: '[new, old]', value: ['new', 'old'] },
      { secret: '["${NEW}", old]', value: ['whsec_new', 'old'] },
    ])('$secret is read as written', ({ secret, value }) => {
      // Act
      const report = analyzeConfig(hook(secret), { NEW: 'whsec_new' });

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.config?.webhooks[0]?.secret).toEqual(value);
    });

    it.each([
      {
        secret: '[]',
        error:
          'webhooks[0].secret: must list at least one secret (or be "" for unsigned deliveries)',
      },
      { secret: '[secret-value-1, ""]', error: 'webhooks[0].secret[1]: must not be empty' },
      {
        secret: '[secret-value-1, "${OLD:-}"]',
        error: 'webhooks[0].secret[1]: must not be empty',
      },
      {
        secret: '[secret-value-1, 5]',
        error: 'webhooks[0].secret: must be a string or a list of strings (newest first)',
      },
    ])('$secret is an error naming its path', ({ secret, error }) => {
      // Act
      const report = analyzeConfig(hook(secret), {});

      // Assess
      expect(report.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([error]);
      expect(JSON.stringify(report.errors)).not.toContain('secret-value');
    });
  });
});
