import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../errors.ts';
import { ConfigError, type ConfigIssue, formatIssue, formatPath } from './issues.ts';

describe('formatPath', () => {
  it.each([
    { path: [], text: '' },
    { path: ['auth', 'api_key'], text: 'auth.api_key' },
    { path: ['workflows', 'full', 'steps', 0, 'retries'], text: 'workflows.full.steps[0].retries' },
    { path: ['webhooks', 2, 'events', 1], text: 'webhooks[2].events[1]' },
    { path: ['services', 'qa-agent', 'url'], text: 'services.qa-agent.url' },
    { path: ['services', 'qa.agent', 'url'], text: 'services["qa.agent"].url' },
    { path: ['services', 'two words'], text: 'services["two words"]' },
    { path: ['services', '1st'], text: 'services["1st"]' },
  ])('writes $path as $text', ({ path, text }) => {
    // Act
    const result = formatPath(path);

    // Assess
    expect(result).toBe(text);
  });
});

describe('formatIssue', () => {
  const issue: ConfigIssue = {
    check: 'schema',
    path: 'event_log_size',
    message: 'must be ≥ 1 (got 0)',
    line: 3,
    column: 17,
  };

  it.each([
    {
      issue,
      source: '/p/.aegis.yaml',
      text: '/p/.aegis.yaml:3:17: event_log_size: must be ≥ 1 (got 0)',
    },
    { issue, source: null, text: '<config>:3:17: event_log_size: must be ≥ 1 (got 0)' },
    {
      issue: { ...issue, line: undefined, column: undefined },
      source: '/p/.aegis.yaml',
      text: '/p/.aegis.yaml: event_log_size: must be ≥ 1 (got 0)',
    },
    {
      issue: { check: 'yaml', path: '', message: 'Missing closing "quote', line: 2, column: 1 },
      source: 'a.yaml',
      text: 'a.yaml:2:1: Missing closing "quote',
    },
  ] as const)('writes $text', ({ issue, source, text }) => {
    // Act
    const result = formatIssue(issue, source);

    // Assess
    expect(result).toBe(text);
  });
});

describe('ConfigError', () => {
  it('is a user-facing error listing every issue on its own line', () => {
    // Prepare
    const issues: ConfigIssue[] = [
      {
        check: 'variables',
        path: 'auth.api_key',
        message: 'environment variable K is not set',
        line: 2,
        column: 12,
      },
      { check: 'schema', path: 'colour', message: 'unknown key', line: 4, column: 1 },
    ];

    // Act
    const error = new ConfigError('/p/.aegis.yaml', issues);

    // Assess
    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.issues).toEqual(issues);
    expect(error.source).toBe('/p/.aegis.yaml');
    expect(error.message).toBe(
      [
        'invalid configuration (2 errors):',
        '  /p/.aegis.yaml:2:12: auth.api_key: environment variable K is not set',
        '  /p/.aegis.yaml:4:1: colour: unknown key',
      ].join('\n'),
    );
  });

  it('says "1 error" for one', () => {
    // Act
    const error = new ConfigError(null, [{ check: 'yaml', path: '', message: 'bad' }]);

    // Assess
    expect(error.message).toBe('invalid configuration (1 error):\n  <config>: bad');
  });
});
