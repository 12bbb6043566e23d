// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold ${VAR} references on purpose
import { describe, expect, it } from 'vitest';
import { analyzeConfig } from './analyze.ts';
import type { ConfigIssue } from './issues.ts';

/** `line:column path: message`, the parts a user reads. */
function show(issues: readonly ConfigIssue[]): string[] {
  return issues.map((i) => `${i.line ?? '-'}:${i.column ?? '-'} ${i.path}: ${i.message}`);
}

const SERVICES = `services:
  qaagent:
    name: QA Agent
    url: http://localhost:8080
  bugalizer:
    name: Bugalizer
    url: http://localhost:8090
`;

describe('analyzeConfig', () => {
  describe('YAML', () => {
    it.each([
      ['an empty file', ''],
      ['a file of comments only', '# nothing configured yet\n'],
      ['an empty document marker', '---\n'],
    ])('takes %s as the built-in defaults', (_, yaml) => {
      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.config).toMatchObject({ services: {}, workflows: {}, webhooks: [] });
      expect(show(report.warnings)).toEqual([
        '-:- : the file is empty (nothing but comments or blank lines): Aegis runs on the built-in defaults, with no services, workflows or webhooks',
      ]);
    });

    it('does not call a file empty that says `{}` or sets one key', () => {
      expect(analyzeConfig('{}\n', {}).warnings).toEqual([]);
      expect(analyzeConfig('# one key\nevent_log_size: 5\n', {}).warnings).toEqual([]);
    });

    describe.each([
      {
        case: 'an unterminated quote',
        yaml: 'aegis:\n  name: "Aegis\nservices: {}\n',
        error: '4:1 : Missing closing "quote',
      },
      {
        case: 'an unclosed flow sequence',
        yaml: 'webhooks: [\n  a\n',
        error:
          '3:1 : Flow sequence in block collection must be sufficiently indented and end with a ]',
      },
      {
        case: 'a tab as indentation',
        yaml: 'auth:\n\tapi_key: x\n',
        error: '2:1 : Tabs are not allowed as indentation',
      },
      {
        case: 'a duplicate key',
        yaml: `${SERVICES}  qaagent:\n    name: Again\n`,
        error: '8:3 : duplicate key "qaagent" (each key may appear once in a mapping)',
      },
      {
        case: 'two documents',
        yaml: 'aegis: {}\n---\nservices: {}\n',
        error: '2:1 : the file holds more than one YAML document (a second "---"): keep one',
      },
      {
        case: 'an alias with no anchor',
        yaml: 'aegis: {name: x}\nllm: *defaults\n',
        error: '2:6 : alias "*defaults" has no anchor "&defaults" before it',
      },
    ])('$case', ({ yaml, error }) => {
      it('is a YAML error with its line and column, and nothing else is checked', () => {
        // Act
        const report = analyzeConfig(yaml, {});

        // Assess
        expect(report.config).toBeNull();
        expect(show(report.errors)).toEqual([error]);
        expect(report.errors.every((e) => e.check === 'yaml')).toBe(true);
      });
    });

    it('refuses a file whose aliases expand without bound', () => {
      // Prepare
      const ten = (name: string) => `[${Array(10).fill(`*${name}`).join(', ')}]`;
      const yaml = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b ${ten('a')}\nc: &c ${ten('b')}\nd: ${ten('c')}\n`;

      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.config).toBeNull();
      expect(report.errors).toEqual([
        {
          check: 'yaml',
          path: '',
          message: 'Excessive alias count indicates a resource exhaustion attack',
        },
      ]);
    });

    it('reports every syntax error, not just the first', () => {
      // Act
      const report = analyzeConfig('aegis:\n name: x\n   version: y\nllm: [\n', {});

      // Assess
      expect(report.errors.length).toBeGreaterThan(1);
      expect(report.errors.every((e) => e.check === 'yaml' && e.line !== undefined)).toBe(true);
    });

    it('warns about a tag it cannot resolve and reads the value as text', () => {
      // Act
      const report = analyzeConfig('aegis:\n  name: !custom Mine\n', {});

      // Assess
      expect(report.config?.aegis.name).toBe('Mine');
      expect(show(report.warnings)).toEqual(['2:9 : Unresolved tag: !custom']);
    });

    it('merges `<<: *anchor` mappings, so steps can share settings', () => {
      // Prepare
      const yaml = `${SERVICES}workflows:
  full:
    name: Full
    steps:
      - &patient { type: discover, service: qaagent, retries: 3, timeout: 90 }
      - <<: *patient
        type: test
`;

      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.config?.workflows.full?.steps[1]).toMatchObject({
        type: 'test',
        service: 'qaagent',
        retries: 3,
        timeout: 90,
      });
    });
  });

  describe('interpolation over the file', () => {
    it('replaces references in every string value, at any depth', () => {
      // Prepare
      const yaml = `aegis:
  name: \${TEAM:-QA} Aegis
auth:
  api_key: \${AEGIS_API_KEY}
services:
  qaagent:
    name: QA Agent
    url: http://\${QA_HOST}:\${QA_PORT:-8080}
    features: ["\${FEATURE}", "literal $\${FEATURE}"]
webhooks:
  - url: https://hooks.test/\${HOOK_PATH}
    secret: \${HOOK_SECRET:-}
`;
      const env = {
        AEGIS_API_KEY: 'k-123',
        QA_HOST: 'qa.internal',
        FEATURE: 'Route Discovery',
        HOOK_PATH: 'aegis',
      };

      // Act
      const report = analyzeConfig(yaml, env);

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.config).toMatchObject({
        aegis: { name: 'QA Aegis' },
        auth: { api_key: 'k-123' },
        services: {
          qaagent: {
            url: 'http://qa.internal:8080',
            features: ['Route Discovery', 'literal ${FEATURE}'],
          },
        },
        webhooks: [{ url: 'https://hooks.test/aegis', secret: '' }],
      });
    });

    it('does not interpolate keys', () => {
      // Act
      const report = analyzeConfig('services:\n  ${X}:\n    name: N\n    url: http://n.test\n', {});

      // Assess
      expect(report.errors).toEqual([]);
      expect(Object.keys(report.config?.services ?? {})).toEqual(['${X}']);
    });

    it('reports an unset variable with the key path, line and column', () => {
      // Act
      const report = analyzeConfig('auth:\n  api_key: ${AEGIS_API_KEY}\n', {});

      // Assess
      expect(report.config).toBeNull();
      expect(report.errors).toEqual([
        {
          check: 'variables',
          path: 'auth.api_key',
          message: 'environment variable AEGIS_API_KEY is not set',
          line: 2,
          column: 12,
        },
      ]);
    });

    it('reports every unset variable at once, each where it is used', () => {
      // Prepare
      const yaml = `auth:
  api_key: \${AEGIS_API_KEY}
services:
  qaagent:
    name: \${QA_NAME}
    url: http://\${QA_HOST}:\${QA_PORT}
webhooks:
  - url: https://hooks.test/x
    secret: \${HOOK_SECRET}
`;

      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(show(report.errors)).toEqual([
        '2:12 auth.api_key: environment variable AEGIS_API_KEY is not set',
        '5:11 services.qaagent.name: environment variable QA_NAME is not set',
        '6:10 services.qaagent.url: environment variable QA_HOST is not set',
        '6:10 services.qaagent.url: environment variable QA_PORT is not set',
        '9:13 webhooks[0].secret: environment variable HOOK_SECRET is not set',
      ]);
    });

    it('does not pile further errors on a value whose variable is missing', () => {
      // Prepare
      const yaml = `${SERVICES}workflows:
  full:
    name: Full
    steps:
      - type: test
        service: \${SERVICE}
        retries: \${RETRIES}
webhooks:
  - url: \${HOOK_A}
  - url: \${HOOK_B}
`;

      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
        'workflows.full.steps[0].service: environment variable SERVICE is not set',
        'workflows.full.steps[0].retries: environment variable RETRIES is not set',
        'webhooks[0].url: environment variable HOOK_A is not set',
        'webhooks[1].url: environment variable HOOK_B is not set',
      ]);
    });

    it('still reports an unknown key whose value has a missing variable', () => {
      // Act
      const report = analyzeConfig('auth:\n  apikey: ${AEGIS_API_KEY}\n', {});

      // Assess
      expect(show(report.errors)).toEqual([
        '2:3 auth.apikey: unknown key (did you mean "api_key"?)',
        '2:11 auth.apikey: environment variable AEGIS_API_KEY is not set',
      ]);
    });

    describe.each([
      { key: 'retries', text: '${RETRIES}', env: { RETRIES: '2' }, value: 2 },
      { key: 'retries', text: '${RETRIES:-3}', env: {}, value: 3 },
      { key: 'retries', text: '"${RETRIES}"', env: { RETRIES: ' 4 ' }, value: 4 },
      { key: 'retry_delay', text: '${DELAY:-0.5}', env: {}, value: 0.5 },
      { key: 'timeout', text: '${TIMEOUT}', env: { TIMEOUT: '1e2' }, value: 100 },
      { key: 'parallel', text: '${PARALLEL}', env: { PARALLEL: 'true' }, value: true },
      { key: 'parallel', text: '${PARALLEL:-false}', env: {}, value: false },
      { key: 'parallel', text: '${PARALLEL}', env: { PARALLEL: 'TRUE' }, value: true },
    ])('$key: $text with $env', ({ key, text, env, value }) => {
      it(`is converted to ${JSON.stringify(value)}`, () => {
        // Prepare
        const yaml = `${SERVICES}workflows:\n  w:\n    name: W\n    steps:\n      - type: test\n        service: qaagent\n        ${key}: ${text}\n`;

        // Act
        const report = analyzeConfig(yaml, env);

        // Assess
        expect(report.errors).toEqual([]);
        expect(report.config?.workflows.w?.steps[0]?.[key as 'retries']).toBe(value);
      });
    });

    it.each([
      { yaml: 'history_max_records: ${MAX}', env: { MAX: '500' }, path: 'history_max_records' },
      { yaml: 'event_log_size: ${SIZE:-25}', env: {}, path: 'event_log_size' },
      { yaml: 'llm:\n  timeout: ${LLM_TIMEOUT}', env: { LLM_TIMEOUT: '7.5' }, path: 'llm' },
    ])('converts $yaml into a number', ({ yaml, env }) => {
      // Act
      const report = analyzeConfig(yaml, env);

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.config).toMatchObject(
        yaml.startsWith('llm')
          ? { llm: { timeout: 7.5 } }
          : yaml.startsWith('history')
            ? { history_max_records: 500 }
            : { event_log_size: 25 },
      );
    });

    describe.each([
      { key: 'retries', value: 'two', error: 'must be an integer' },
      { key: 'retries', value: '0x10', error: 'must be an integer' },
      { key: 'retries', value: '', error: 'must be an integer' },
      { key: 'retries', value: '2.5', error: 'must be an integer' },
      { key: 'retries', value: '12', error: 'must be ≤ 10' },
      { key: 'timeout', value: 'soon', error: 'must be a number of seconds' },
      { key: 'timeout', value: 'Infinity', error: 'must be a number of seconds' },
      { key: 'retry_delay', value: '-1', error: 'must be ≥ 0' },
      { key: 'parallel', value: 'yes', error: 'must be true or false' },
      { key: 'parallel', value: '1', error: 'must be true or false' },
    ])('$key from a variable holding $value', ({ key, value, error }) => {
      it('is an error naming the key path and the variable, never the value', () => {
        // Prepare
        const yaml = `${SERVICES}workflows:\n  w:\n    name: W\n    steps:\n      - type: test\n        service: qaagent\n        ${key}: \${VALUE}\n`;

        // Act
        const report = analyzeConfig(yaml, { VALUE: value });

        // Assess
        expect(show(report.errors)).toEqual([
          `14:${key.length + 11} workflows.w.steps[0].${key}: ${error} (got the value of $VALUE)`,
        ]);
      });
    });

    describe('a value that came from the environment is never repeated', () => {
      const step = (line: string) =>
        `${SERVICES}workflows:\n  w:\n    name: W\n    steps:\n      - type: test\n        service: qaagent\n        ${line}\n`;

      it.each([
        {
          case: 'a secret put where a number belongs',
          yaml: step('retries: ${RETRIES}'),
          env: { RETRIES: 'my-secret' },
          error: 'workflows.w.steps[0].retries: must be an integer (got the value of $RETRIES)',
        },
        {
          case: 'a value made of text and variables',
          yaml: step('timeout: "${A}${B}s"'),
          env: { A: 'tok', B: 'en' },
          error:
            'workflows.w.steps[0].timeout: must be a number of seconds (got the value of $A, $B)',
        },
        {
          case: 'a URL from a variable',
          yaml: 'services:\n  qa:\n    name: Q\n    url: ${QA_URL}\n',
          env: { QA_URL: 'ftp://user:my-secret@qa.test' },
          error: 'services.qa.url: must be an http(s) URL with a host (got the value of $QA_URL)',
        },
        {
          case: 'a list holding a variable, next to the wrong item',
          yaml: 'services:\n  qa:\n    name: Q\n    url: http://q.test\n    features: [ok, 1, "${F}"]\n',
          env: { F: 'my-secret' },
          error: 'services.qa.features[1]: must be a string (put it in quotes) (got 1)',
        },
        {
          case: 'text from a variable where a list belongs',
          yaml: 'services:\n  qa:\n    name: Q\n    url: http://q.test\n    features: ${F}\n',
          env: { F: 'my-secret' },
          error: 'services.qa.features: must be a list of strings (got the value of $F)',
        },
        {
          case: 'a mapping where text belongs, holding a variable',
          yaml: 'aegis:\n  name: { text: "${NAME}" }\n',
          env: { NAME: 'my-secret' },
          error: 'aegis.name: must be a string (got the value of $NAME)',
        },
        {
          case: 'a step naming its service through a variable',
          yaml: `${SERVICES}workflows:\n  w:\n    name: W\n    steps:\n      - type: test\n        service: \${SVC}\n`,
          env: { SVC: 'my-secret' },
          error:
            'workflows.w.steps[0].service: unknown service the value of $SVC (known: qaagent, bugalizer)',
        },
        {
          case: 'a step type from a variable',
          yaml: step('condition: ${WHEN}'),
          env: { WHEN: 'my-secret' },
          error:
            'workflows.w.steps[0].condition: must be one of has_failures, on_success, on_failure, always (got the value of $WHEN)',
        },
      ])('$case', ({ yaml, env, error }) => {
        // Act
        const report = analyzeConfig(yaml, env);

        // Assess
        expect(report.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([error]);
        expect(JSON.stringify(report)).not.toContain('my-secret');
      });

      it('names the variable of an event type in its warning', () => {
        // Act
        const report = analyzeConfig(
          'webhooks:\n  - url: http://h.test\n    events: ["${EVENT}"]\n',
          { EVENT: 'my-secret' },
        );

        // Assess
        expect(report.warnings.map((w) => w.message)).toEqual([
          expect.stringMatching(/^the value of \$EVENT is not an event type/),
        ]);
        expect(JSON.stringify(report.warnings)).not.toContain('my-secret');
      });

      it('still shows a value that a default written in the file supplied', () => {
        // Act
        const report = analyzeConfig(step('retries: ${RETRIES:-two}'), {});

        // Assess
        expect(show(report.errors)).toEqual([
          '14:18 workflows.w.steps[0].retries: must be an integer (got "two")',
        ]);
      });

      it('shows a URL written in the file with its credentials masked', () => {
        // Act
        const report = analyzeConfig(
          'services:\n  qa:\n    name: Q\n    url: ftp://user:pass-1@qa.test/?token=pass-2\n',
          {},
        );

        // Assess
        expect(report.errors.map((e) => e.message)).toEqual([
          'must be an http(s) URL with a host (got "ftp://***:***@qa.test/?token=***")',
        ]);
      });
    });

    describe('auth.api_key coming out empty', () => {
      describe.each([
        { text: '${AEGIS_API_KEY:-}', env: {} },
        { text: '${AEGIS_API_KEY}', env: { AEGIS_API_KEY: '' } },
        { text: '${AEGIS_API_KEY:-${FALLBACK_KEY:-}}', env: {} },
      ])('from $text with $env', ({ text, env }) => {
        it('warns that authentication is off', () => {
          // Act
          const report = analyzeConfig(`auth:\n  api_key: ${text}\n`, env);

          // Assess
          expect(report.config?.auth.api_key).toBe('');
          expect(show(report.warnings)).toEqual([
            '2:12 auth.api_key: came out empty from its environment variable: authentication is off',
          ]);
        });
      });

      it.each([
        { text: '""', env: {} },
        { text: '${AEGIS_API_KEY}', env: { AEGIS_API_KEY: 'k' } },
        { text: '${AEGIS_API_KEY:-fallback}', env: {} },
      ])('does not warn for $text with $env', ({ text, env }) => {
        // Act
        const report = analyzeConfig(`auth:\n  api_key: ${text}\n`, env);

        // Assess
        expect(report.errors).toEqual([]);
        expect(report.warnings).toEqual([]);
      });
    });
  });

  describe('step services', () => {
    it('is an error when a step names a service that is not configured, listing the known ones', () => {
      // Prepare
      const yaml = `${SERVICES}workflows:
  full:
    name: Full
    steps:
      - type: discover
        service: qaagent
      - type: report
        service: reporter
`;

      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.errors).toEqual([
        {
          check: 'services',
          path: 'workflows.full.steps[1].service',
          message: 'unknown service "reporter" (known: qaagent, bugalizer)',
          line: 15,
          column: 18,
        },
      ]);
    });

    it('says so when no service is configured at all', () => {
      // Act
      const report = analyzeConfig(
        'workflows:\n  w:\n    name: W\n    steps:\n      - type: report\n        service: qaagent\n',
        {},
      );

      // Assess
      expect(report.errors.map((e) => e.message)).toEqual([
        'unknown service "qaagent" (no services are configured)',
      ]);
    });

    it('finds a service named after interpolation', () => {
      // Act
      const report = analyzeConfig(
        `${SERVICES}workflows:\n  w:\n    name: W\n    steps:\n      - type: test\n        service: \${QA:-qaagent}\n`,
        {},
      );

      // Assess
      expect(report.errors).toEqual([]);
    });
  });

  describe('api_key_env variables', () => {
    const KEYED = `services:
  qaagent:
    name: QA Agent
    url: http://localhost:8080
    api_key_env: QAAGENT_API_KEY
  bugalizer:
    name: Bugalizer
    url: http://localhost:8090
    api_key_env: BUGALIZER_API_KEY
  plain:
    name: No key
    url: http://localhost:8070
`;

    it('warns, when asked, about each one that is unset or empty, where it is named', () => {
      // Act
      const report = analyzeConfig(KEYED, { BUGALIZER_API_KEY: '' }, { checkKeyVariables: true });

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.warnings.map((w) => w.check)).toEqual(['variables', 'variables']);
      expect(show(report.warnings)).toEqual([
        '5:18 services.qaagent.api_key_env: QAAGENT_API_KEY is not set: requests to qaagent carry no X-API-Key',
        '9:18 services.bugalizer.api_key_env: BUGALIZER_API_KEY is empty: requests to bugalizer carry no X-API-Key',
      ]);
    });

    it('is quiet when they are set, and unless asked (a run says it in a 401 instead)', () => {
      const env = { QAAGENT_API_KEY: 'k1', BUGALIZER_API_KEY: 'k2' };
      expect(analyzeConfig(KEYED, env, { checkKeyVariables: true }).warnings).toEqual([]);
      expect(analyzeConfig(KEYED, {}).warnings).toEqual([]);
    });
  });

  describe('webhooks', () => {
    it('is an error to list the same URL twice', () => {
      // Prepare
      const yaml = `webhooks:
  - url: https://hooks.test/a
    events: [workflow.started]
  - url: https://hooks.test/b
  - url: https://hooks.test/a
    events: [workflow.completed]
`;

      // Act
      const report = analyzeConfig(yaml, {});

      // Assess
      expect(report.errors).toEqual([
        {
          check: 'webhooks',
          path: 'webhooks[2].url',
          message: 'same URL as webhooks[0]: list all its events in one entry',
          line: 5,
          column: 10,
        },
      ]);
    });

    it('accepts the four event types and "*"', () => {
      // Act
      const report = analyzeConfig(
        'webhooks:\n  - url: https://h.test\n    events: [workflow.started, step.completed, failure.detected, workflow.completed, "*"]\n',
        {},
      );

      // Assess
      expect(report.errors).toEqual([]);
      expect(report.warnings).toEqual([]);
    });

    it('warns about an event name that is not an event type, and stays valid', () => {
      // Act
      const report = analyzeConfig(
        'webhooks:\n  - url: https://h.test\n    events: [workflow.completed, workflow.failed]\n',
        {},
      );

      // Assess
      expect(report.config).not.toBeNull();
      expect(show(report.warnings)).toEqual([
        '3:34 webhooks[0].events[1]: "workflow.failed" is not an event type, so nothing will match it (known: workflow.started, step.completed, failure.detected, workflow.completed, workflow.cancelled, *)',
      ]);
    });
  });

  it('reports every error of a file at once, in the order of the file', () => {
    // Prepare
    const yaml = `aegis:
  nmae: Aegis
auth:
  api_key: \${AEGIS_API_KEY}
history_max_records: -5
event_log_size: 0
webhooks:
  - url: ftp://hooks.test
    events: [workflow.completed, workflow.done]
  - url: https://hooks.test/x
  - url: https://hooks.test/x
services:
  qaagent:
    url: localhost:8080
  bugalizer:
    name: Bugalizer
    url: http://localhost:8090
    health_endpiont: /healthz
workflows:
  full:
    name: Full
    steps:
      - type: discover
        service: qaagent
        retires: 2
      - type: deploy
        service: qaagent
      - type: test
        service: qa
        condition: sometimes
        retries: 11
        retry_delay: -1
        timeout: 0
        parallel: maybe
  broken:
    steps: discover
`;

    // Act
    const report = analyzeConfig(yaml, {});

    // Assess
    expect(report.config).toBeNull();
    expect(show(report.errors)).toEqual([
      '2:3 aegis.nmae: unknown key (did you mean "name"?)',
      '4:12 auth.api_key: environment variable AEGIS_API_KEY is not set',
      '5:22 history_max_records: must be ≥ 0 (got -5)',
      '6:17 event_log_size: must be ≥ 1 (got 0)',
      '8:10 webhooks[0].url: must be an http(s) URL with a host (got "ftp://hooks.test")',
      '11:10 webhooks[2].url: same URL as webhooks[1]: list all its events in one entry',
      '14:5 services.qaagent.name: is required',
      '14:10 services.qaagent.url: must be an http(s) URL with a host (got "localhost:8080")',
      '18:5 services.bugalizer.health_endpiont: unknown key (did you mean "health_endpoint"?)',
      '25:9 workflows.full.steps[0].retires: unknown key (did you mean "retries"?)',
      '26:15 workflows.full.steps[1].type: must be one of discover, test, submit_bugs, verify, report (got "deploy")',
      '29:18 workflows.full.steps[2].service: unknown service "qa" (known: qaagent, bugalizer)',
      '30:20 workflows.full.steps[2].condition: must be one of has_failures, on_success, on_failure, always (got "sometimes")',
      '31:18 workflows.full.steps[2].retries: must be ≤ 10 (got 11)',
      '32:22 workflows.full.steps[2].retry_delay: must be ≥ 0 (got -1)',
      '33:18 workflows.full.steps[2].timeout: must be > 0 (got 0)',
      '34:19 workflows.full.steps[2].parallel: must be true or false (got "maybe")',
      '36:5 workflows.broken.name: is required',
      '36:12 workflows.broken.steps: must be a list of steps (got "discover")',
    ]);
    expect(show(report.warnings)).toEqual([
      '9:34 webhooks[0].events[1]: "workflow.done" is not an event type, so nothing will match it (known: workflow.started, step.completed, failure.detected, workflow.completed, workflow.cancelled, *)',
    ]);
  });
});
