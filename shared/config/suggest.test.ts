import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, stepSchema } from './schema.ts';
import { closestKey, schemaAt } from './suggest.ts';

describe('closestKey', () => {
  const stepKeys = Object.keys(stepSchema.shape);

  it.each([
    { typo: 'retires', known: stepKeys, suggestion: 'retries' },
    { typo: 'Retries', known: stepKeys, suggestion: 'retries' },
    { typo: 'retry-delay', known: stepKeys, suggestion: 'retry_delay' },
    { typo: 'timout', known: stepKeys, suggestion: 'timeout' },
    { typo: 'condtion', known: stepKeys, suggestion: 'condition' },
    { typo: 'sevice', known: stepKeys, suggestion: 'service' },
    { typo: 'typ', known: stepKeys, suggestion: 'type' },
    { typo: 'colour', known: stepKeys, suggestion: undefined },
    { typo: 'x', known: [], suggestion: undefined },
  ])('suggests $suggestion for $typo', ({ typo, known, suggestion }) => {
    // Act
    const result = closestKey(typo, known);

    // Assess
    expect(result).toBe(suggestion);
  });
});

describe('schemaAt', () => {
  it.each([
    { path: [], keys: Object.keys(configSchema.shape) },
    { path: ['auth'], keys: ['api_key', 'keys', 'protect_reads'] },
    { path: ['webhooks', 0], keys: ['url', 'events', 'secret'] },
    {
      path: ['services', 'any-key'],
      keys: [
        'name',
        'url',
        'description',
        'health_endpoint',
        'api_key_env',
        'features',
        'repo_url',
        'docs_url',
      ],
    },
    { path: ['workflows', 'w', 'steps', 3], keys: Object.keys(stepSchema.shape) },
  ])('finds the mapping at $path', ({ path, keys }) => {
    // Act
    const schema = schemaAt(configSchema, path);

    // Assess
    expect(schema).toBeInstanceOf(z.ZodObject);
    expect(Object.keys((schema as z.ZodObject).shape)).toEqual(keys);
  });

  it.each([
    { path: ['nope'] },
    { path: ['auth', 'api_key', 'deeper'] },
    { path: ['workflows', 'w', 'steps', 0, 'retries', 'x'] },
  ])('finds nothing at $path', ({ path }) => {
    // Act
    const schema = schemaAt(configSchema, path);

    // Assess
    expect(schema).toBeUndefined();
  });

  it('looks through a conversion to the schema it feeds', () => {
    // Act
    const schema = schemaAt(configSchema, ['workflows', 'w', 'steps', 0, 'retries']);

    // Assess
    expect(schema).toBeInstanceOf(z.ZodNumber);
  });
});
