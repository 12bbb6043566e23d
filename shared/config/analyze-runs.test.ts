import { describe, expect, it } from 'vitest';
import { analyzeConfig } from './analyze.ts';

const workflow = (extra: string) => `services:
  qaagent: { name: QA Agent, url: "http://localhost:8080" }
workflows:
  nightly:
    name: Nightly
    steps: [{ type: discover, service: qaagent }]
${extra}`;

describe('analyzeConfig: the run settings of a workflow (SPEC §11)', () => {
  it('takes a concurrency rule, a queue timeout and on_interrupt', () => {
    const report = analyzeConfig(
      workflow(`    concurrency: { limit: 2, on_conflict: cancel_running }
    queue_timeout: 90
    on_interrupt: requeue
`),
      {},
    );
    expect(report.errors).toEqual([]);
    expect(report.config?.workflows.nightly).toMatchObject({
      concurrency: { limit: 2, on_conflict: 'cancel_running' },
      queue_timeout: 90,
      on_interrupt: 'requeue',
    });
  });

  it.each([
    ['    concurrency: { limit: 0 }\n', 'workflows.nightly.concurrency.limit: must be ≥ 1 (got 0)'],
    [
      '    concurrency: { limit: 1, on_conflict: wait }\n',
      'workflows.nightly.concurrency.on_conflict: must be one of queue, cancel_running, reject (got "wait")',
    ],
    [
      '    concurrency: { on_conflict: reject }\n',
      'workflows.nightly.concurrency.limit: is required',
    ],
    [
      '    on_interrupt: retry\n',
      'workflows.nightly.on_interrupt: must be one of none, requeue (got "retry")',
    ],
    ['    queue_timeout: -5\n', 'workflows.nightly.queue_timeout: must be ≥ 0 (got -5)'],
  ])('refuses %j with its key path', (extra, message) => {
    const report = analyzeConfig(workflow(extra), {});
    expect(report.config).toBeNull();
    expect(report.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([message]);
  });
});
