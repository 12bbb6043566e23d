import { describe, expect, it } from 'vitest';
import { errorTextOf, readResults, stepTestsOf, testNameOf } from './test-entries.ts';

describe('testNameOf', () => {
  it.each([
    [{ test: 'a', name: 'b', id: 'c' }, 'a'],
    [{ name: 'b', id: 'c' }, 'b'],
    [{ id: 'c' }, 'c'],
    [{ test: null, name: 'b' }, 'b'],
    [{ test: 42, name: 'b' }, null], // the first present field decides: not a string
    [{ test: '' }, null],
    [{ error: 'no name' }, null],
    ['test_a', null],
    [null, null],
  ])('%j → %j', (entry, name) => {
    expect(testNameOf(entry)).toBe(name);
  });
});

describe('errorTextOf', () => {
  it('is the error, else the message, else empty; other values as JSON', () => {
    expect(errorTextOf({ error: 'boom', message: 'ignored' })).toBe('boom');
    expect(errorTextOf({ message: 'only this' })).toBe('only this');
    expect(errorTextOf({ error: { status: 500 } })).toBe('{"status":500}');
    expect(errorTextOf({ test: 'a' })).toBe('');
  });
});

describe('readResults', () => {
  it('keeps a valid list as received, and says nothing', () => {
    const results = [{ test: 'a', status: 'passed', duration_ms: 3, extra: true }];
    expect(readResults(results)).toEqual({ results });
    expect(readResults(undefined)).toEqual({});
  });

  it('names at most three problems, and says when there were more', () => {
    const bad = Array.from({ length: 5 }, () => ({ test: 'x', status: 'PASSED' }));
    const note = readResults([...bad, { test: 'ok', status: 'failed' }]).results_note;
    expect(note).toBe(
      '"results": 5 of 6 entries ignored (entry 0: status must be passed, failed, skipped; entry 1: status must be passed, failed, skipped; entry 2: status must be passed, failed, skipped; …)',
    );
    expect(readResults(bad)).toEqual({
      results_note: expect.stringMatching(/^"results" has no valid entry: ignored \(entry 0:/),
    });
  });
});

describe('stepTestsOf', () => {
  it('gives each test one status: failed over passed over skipped, keeping a known duration', () => {
    const tests = stepTestsOf({
      failures: [{ test: 'a' }, { error: 'unnamed' }],
      results: [
        { test: 'a', status: 'passed', duration_ms: 9 },
        { test: 'b', status: 'skipped' },
        { test: 'b', status: 'passed', duration_ms: -1 },
      ],
    });
    expect(Object.fromEntries(tests.byName)).toEqual({
      a: { status: 'failed', duration_ms: 9 },
      b: { status: 'passed', duration_ms: null },
    });
    expect(tests.hasResults).toBe(true);
    expect(stepTestsOf({ failures: [], results: [] }).hasResults).toBe(false);
  });
});
