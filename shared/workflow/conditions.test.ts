import { afterEach, describe, expect, it } from 'vitest';
import { QA_AGENT_ROUTES, type StubService, startStub } from '#test/support/stub-service.ts';
import { configFrom } from '#test/support/temp.ts';
import { conditionHolds } from './conditions.ts';
import { runWorkflow } from './run-workflow.ts';
import type { StepResult } from './types.ts';

function step(outcome: 'passed' | 'failed' | 'skipped', failures?: unknown[]): StepResult {
  return {
    step_type: 'test',
    service: 'qaagent',
    success: outcome !== 'failed',
    skipped: outcome === 'skipped',
    data: failures === undefined ? {} : { failures },
    error: outcome === 'failed' ? 'qaagent POST /api/runs: HTTP 500' : null,
    duration_ms: 1,
    attempts: [],
  };
}

describe('conditionHolds', () => {
  it('always (and no condition) holds whatever came before', () => {
    for (const earlier of [[], [step('failed')], [step('passed')]]) {
      expect(conditionHolds('always', earlier)).toBe(true);
      expect(conditionHolds(undefined, earlier)).toBe(true);
    }
  });

  it('has_failures: some earlier step failed or reported a non-empty failures list', () => {
    expect(conditionHolds('has_failures', [])).toBe(false);
    expect(conditionHolds('has_failures', [step('passed'), step('skipped')])).toBe(false);
    expect(conditionHolds('has_failures', [step('passed', [])])).toBe(false);
    expect(conditionHolds('has_failures', [step('passed'), step('failed')])).toBe(true);
    expect(conditionHolds('has_failures', [step('passed', [{ test: 'x' }])])).toBe(true);
  });

  it('on_success: every earlier step succeeded, skipped ones included; true with none', () => {
    expect(conditionHolds('on_success', [])).toBe(true);
    expect(conditionHolds('on_success', [step('passed'), step('skipped')])).toBe(true);
    // Reported test failures are not a failed step.
    expect(conditionHolds('on_success', [step('passed', [{ test: 'x' }])])).toBe(true);
    expect(conditionHolds('on_success', [step('passed'), step('failed')])).toBe(false);
  });

  it('on_failure: some earlier step failed (reported test failures do not count)', () => {
    expect(conditionHolds('on_failure', [])).toBe(false);
    expect(conditionHolds('on_failure', [step('skipped'), step('passed', [{ test: 'x' }])])).toBe(
      false,
    );
    expect(conditionHolds('on_failure', [step('passed'), step('failed')])).toBe(true);
  });
});

describe('conditions in a run', () => {
  let qa: StubService;
  afterEach(async () => {
    await qa.close();
  });

  async function run(steps: Record<string, unknown>[]) {
    const config = configFrom(
      JSON.stringify({
        services: { qaagent: { name: 'QA', url: qa.url } },
        workflows: { wf: { name: 'Conditions', steps } },
      }),
    );
    const workflow = config.workflows.wf;
    if (!workflow) throw new Error('workflow missing');
    return runWorkflow({ key: 'wf', workflow, services: config.services, env: {} });
  }

  it('runs on_success as the first step (no earlier steps)', async () => {
    qa = await startStub(QA_AGENT_ROUTES);
    const { steps } = await run([
      { type: 'discover', service: 'qaagent', condition: 'on_success' },
    ]);
    expect(steps[0]).toMatchObject({ success: true, skipped: false });
    expect(qa.calls('GET /api/routes')).toHaveLength(1);
  });

  it('skips a step whose condition is false: successful, skipped, with the message, no call', async () => {
    qa = await startStub({ ...QA_AGENT_ROUTES, 'GET /api/routes': { status: 500 } });
    const result = await run([
      { type: 'discover', service: 'qaagent' },
      { type: 'verify', service: 'qaagent', condition: 'on_success' },
      { type: 'test', service: 'qaagent', condition: 'on_failure' },
      { type: 'verify', service: 'qaagent', condition: 'always' },
      { type: 'report', service: 'qaagent', condition: 'has_failures' },
    ]);
    expect(result.steps[1]).toEqual({
      step_type: 'verify',
      service: 'qaagent',
      success: true,
      skipped: true,
      data: { message: "Skipped: condition 'on_success' not met" },
      error: null,
      duration_ms: 0,
      attempts: [],
    });
    expect(result.steps.map((s) => [s.step_type, s.success, s.skipped])).toEqual([
      ['discover', false, false],
      ['verify', true, true],
      ['test', true, false],
      ['verify', true, false],
      ['report', true, false],
    ]);
    // One verify call (the `always` one), none for the skipped step.
    expect(qa.calls('POST /api/runs').map((r) => r.json)).toEqual([{}, { verify_only: true }]);
  });

  it('has_failures holds after a test step that reported failures, though the run succeeds', async () => {
    qa = await startStub(QA_AGENT_ROUTES);
    const result = await run([
      { type: 'test', service: 'qaagent' },
      { type: 'report', service: 'qaagent', condition: 'has_failures' },
      { type: 'verify', service: 'qaagent', condition: 'on_failure' },
    ]);
    expect(result.success).toBe(true);
    expect(result.steps.map((s) => s.skipped)).toEqual([false, false, true]);
    expect(result.steps[2]?.data.message).toBe("Skipped: condition 'on_failure' not met");
  });

  it('a skipped step counts as successful for later on_success steps', async () => {
    qa = await startStub(QA_AGENT_ROUTES);
    const result = await run([
      { type: 'discover', service: 'qaagent' },
      { type: 'report', service: 'qaagent', condition: 'on_failure' },
      { type: 'verify', service: 'qaagent', condition: 'on_success' },
    ]);
    expect(result.steps.map((s) => s.skipped)).toEqual([false, true, false]);
    expect(result.success).toBe(true);
  });
});
