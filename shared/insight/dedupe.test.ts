import { describe, expect, it } from 'vitest';
import { leaveOutSubmitted, type SubmittedBefore } from './dedupe.ts';
import type { FailureKey } from './test-entries.ts';

/** A memory of earlier submissions, as the executor's `submittedBefore` answers from the database. */
function memory(submitted: FailureKey[]): { ask: SubmittedBefore; asked: unknown[][] } {
  const asked: unknown[][] = [];
  return {
    asked,
    ask: async (workflow, failures, withinDays) => {
      asked.push([workflow, failures, withinDays]);
      return failures.filter((f) =>
        submitted.some((s) => s.test === f.test && s.error === f.error),
      );
    },
  };
}

describe('leaveOutSubmitted', () => {
  it('leaves out what was submitted before and repeats within the submission; keeps the rest in order', async () => {
    const { ask, asked } = memory([{ test: 'known', error: 'boom' }]);
    const failures = [
      { test: 'known', error: 'boom', route: 'GET /a' },
      { test: 'known', error: 'other text' },
      { name: 'fresh', message: 'bad' },
      { name: 'fresh', message: 'bad' },
      { error: 'names no test' },
      { error: 'names no test' },
    ];

    const outcome = await leaveOutSubmitted(failures, {
      workflow: 'nightly',
      withinDays: 7,
      submittedBefore: ask,
    });

    expect(outcome).toEqual({
      kept: [failures[1], failures[2], failures[4], failures[5]],
      deduplicated: ['known', 'fresh'],
    });
    // One question, with every named failure's key.
    expect(asked).toEqual([
      [
        'nightly',
        [
          { test: 'known', error: 'boom' },
          { test: 'known', error: 'other text' },
          { test: 'fresh', error: 'bad' },
          { test: 'fresh', error: 'bad' },
        ],
        7,
      ],
    ]);
  });

  it('without a memory (an engine run without stores) only collapses repeats, and asks nothing for unnamed failures', async () => {
    const { ask, asked } = memory([]);
    const twice = [{ test: 'a' }, { test: 'a' }];

    expect(await leaveOutSubmitted(twice, { workflow: 'w', withinDays: 1 })).toEqual({
      kept: [twice[0]],
      deduplicated: ['a'],
    });
    await leaveOutSubmitted([{ error: 'x' }], {
      workflow: 'w',
      withinDays: 1,
      submittedBefore: ask,
    });
    expect(asked).toEqual([]);
  });
});
