import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import type { StepResult } from '#shared/workflow/types.ts';
import { REMOTE_BACKEND, type RemoteDatabase, remoteDatabase } from '#test/support/remote-db.ts';
import { claimRun, finishRun, OWNER, queueRun, step } from '#test/support/runs.ts';
import { configFrom } from '#test/support/temp.ts';
import { insightStatements } from './record.ts';

/*
 * The test insight's statements as a libSQL server takes them: sqld binds
 * parameters itself and refuses a statement with a missing or extra one.
 */

let remote: RemoteDatabase;

beforeAll(async () => {
  remote = await remoteDatabase();
});

afterAll(async () => {
  await remote?.close();
});

async function open(): Promise<Stores> {
  const stores = await openStores(configFrom('aegis: { name: Remote }'), remote.env);
  onTestFinished(() => stores.db.close());
  return stores;
}

/** A run whose steps are written as the recorder writes them (each with its insight), then ended; its id. */
async function run(s: Stores, workflow: string, steps: StepResult[]): Promise<string> {
  const runId = await queueRun(s, workflow);
  await claimRun(s, runId);
  for (const [index, result] of steps.entries())
    await s.history.recordStep(
      runId,
      index,
      result,
      OWNER,
      insightStatements(runId, index, result, OWNER),
    );
  await finishRun(s, runId, [], { workflow });
  return runId;
}

describe(`test insight over AEGIS_DB_URL, against ${REMOTE_BACKEND}`, () => {
  it('records results, infers passes, dedupes and answers the tests and the trends', async () => {
    const s = await open();
    const workflow = `remote-${randomUUID()}`;
    const failing = (failures: string[]) =>
      step('test', {
        data: { total: 3, failures: failures.map((test) => ({ test, error: 'boom' })) },
      });
    const submitted = step('submit_bugs', {
      service: 'bugalizer',
      data: { submitted: 1, submitted_tests: [{ test: 'x', error: 'boom' }] },
    });

    await run(s, workflow, [failing(['x'])]);
    await run(s, workflow, [failing([]), submitted]);
    await run(s, workflow, [failing(['x'])]);

    const tests = await s.insight.tests(workflow, { window: 50, limit: 50, offset: 0 });
    expect(tests).toEqual([
      expect.objectContaining({ test: 'x', failures: 2, passes: 1, flips: 2, flaky: true }),
    ]);
    expect(await s.insight.submittedBefore(workflow, [{ test: 'x', error: 'boom' }], 7)).toEqual([
      { test: 'x', error: 'boom' },
    ]);
    expect(await s.insight.stats(workflow, { days: 1 })).toMatchObject({
      runs: 3,
      succeeded: 3,
      tests: { total: 9, failed: 2 },
    });
    expect((await s.history.listRuns({ workflow, limit: 1 }))[0]?.tests).toEqual({
      total: 3,
      passed: 0,
      failed: 1,
    });
  });
});
