// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold ${VAR} references on purpose
import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.ts';

describe('interpolate', () => {
  const env = { HOST: 'qa.test', PORT: '8080', EMPTY: '', NESTED: 'inner' };

  describe.each([
    { case: '${VAR} when set', text: 'http://${HOST}/x', value: 'http://qa.test/x' },
    { case: 'several references', text: '${HOST}:${PORT}', value: 'qa.test:8080' },
    { case: '${VAR} set to ""', text: 'a${EMPTY}b', value: 'ab' },
    { case: '${VAR:-default} when set', text: '${PORT:-9000}', value: '8080' },
    { case: '${VAR:-default} when unset', text: '${MISSING:-9000}', value: '9000' },
    { case: '${VAR:-default} when empty', text: '${EMPTY:-fallback}', value: 'fallback' },
    { case: '${VAR:-} when unset', text: '${MISSING:-}', value: '' },
    { case: '${VAR:-} when empty', text: '${EMPTY:-}', value: '' },
    { case: 'a default holding ":-"', text: '${MISSING:-a:-b}', value: 'a:-b' },
    { case: 'a default holding spaces', text: '${MISSING:-two words}', value: 'two words' },
    { case: 'a nested default', text: '${MISSING:-${NESTED}}', value: 'inner' },
    { case: 'a nested default, twice', text: '${A:-${B:-${HOST}}}', value: 'qa.test' },
    { case: '$${ as a literal', text: 'cost: $${HOST}', value: 'cost: ${HOST}' },
    { case: '$${ inside a default', text: '${MISSING:-$${X}}', value: '${X}' },
    { case: 'a lone $', text: 'price $5 and $HOST', value: 'price $5 and $HOST' },
    { case: 'a lone }', text: 'a}b', value: 'a}b' },
    { case: 'no reference', text: 'plain', value: 'plain' },
    { case: 'an empty string', text: '', value: '' },
  ])('$case', ({ text, value }) => {
    it(`gives ${JSON.stringify(value)}`, () => {
      // Act
      const result = interpolate(text, env);

      // Assess
      expect(result).toMatchObject({ value, errors: [] });
    });
  });

  it('does not read the default when the variable is set (its own references may be unset)', () => {
    // Act
    const result = interpolate('${HOST:-${MISSING}}', env);

    // Assess
    expect(result).toEqual({
      value: 'qa.test',
      hadReference: true,
      variables: ['HOST'],
      errors: [],
    });
  });

  it('reports an unset variable without a default, naming it', () => {
    // Act
    const result = interpolate('${AEGIS_API_KEY}', {});

    // Assess
    expect(result.errors).toEqual(['environment variable AEGIS_API_KEY is not set']);
  });

  it('reports every unset variable of one text', () => {
    // Act
    const result = interpolate('${A}/${HOST}/${B}', env);

    // Assess
    expect(result.errors).toEqual([
      'environment variable A is not set',
      'environment variable B is not set',
    ]);
  });

  it('reports an unset variable inside a default that is used', () => {
    // Act
    const result = interpolate('${MISSING:-${ALSO_MISSING}}', env);

    // Assess
    expect(result.errors).toEqual(['environment variable ALSO_MISSING is not set']);
  });

  describe.each([
    { text: '${}', reference: '${}' },
    { text: '${1ABC}', reference: '${1ABC}' },
    { text: '${A-B}', reference: '${A-B}' },
    { text: '${A B}', reference: '${A B}' },
    { text: '${:-x}', reference: '${:-x}' },
  ])('the malformed reference $text', ({ text, reference }) => {
    it('is an error that quotes it and shows the allowed forms', () => {
      // Act
      const result = interpolate(text, env);

      // Assess
      expect(result.errors).toEqual([
        `"${reference}" is not a valid reference (use \${NAME} or \${NAME:-default})`,
      ]);
    });
  });

  it('reports an unclosed "${" without quoting the text, which may be a secret', () => {
    // Act
    const result = interpolate('s3cr3t${OOPS', env);

    // Assess
    expect(result.errors).toEqual(['unclosed "${" (write "$${" for a literal "${")']);
    expect(result.errors.join()).not.toContain('s3cr3t');
  });

  describe.each([
    { text: '${HOST}', hadReference: true },
    { text: '${MISSING:-}', hadReference: true },
    { text: '$${HOST}', hadReference: false },
    { text: 'plain', hadReference: false },
  ])('$text', ({ text, hadReference }) => {
    it(`${hadReference ? 'counts' : 'does not count'} as a reference`, () => {
      // Act
      const result = interpolate(text, env);

      // Assess
      expect(result.hadReference).toBe(hadReference);
    });
  });

  describe.each([
    { text: 'http://${HOST}:${PORT}/${HOST}', variables: ['HOST', 'PORT'] },
    { text: 'a${EMPTY}b', variables: ['EMPTY'] },
    { text: '${MISSING:-9000}', variables: [] },
    { text: '${EMPTY:-fallback}', variables: [] },
    { text: '${MISSING:-${NESTED}}', variables: ['NESTED'] },
    { text: '${HOST:-${NESTED}}', variables: ['HOST'] },
    { text: '$${HOST}', variables: [] },
  ])('$text', ({ text, variables }) => {
    it(`took its value from ${variables.join(', ') || 'no variable'}`, () => {
      // Act
      const result = interpolate(text, env);

      // Assess: what a validation error must not repeat.
      expect(result.variables).toEqual(variables);
    });
  });
});
