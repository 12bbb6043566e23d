import { describe, expect, it, onTestFinished } from 'vitest';
import type { AegisConfig } from '#shared/config/schema.ts';
import { AegisContext } from '#shared/context.ts';
import type { HistoryRecord } from '#shared/history/history-store.ts';
import type { Stores } from '#shared/stores.ts';
import type { RunObserver } from '#shared/workflow/run-workflow.ts';
import type { RunResult } from '#shared/workflow/types.ts';
import { qaStubsForFile } from '#test/support/stub-service.ts';
import { captureLogger, configFrom } from '#test/support/temp.ts';

const stubs = qaStubsForFile();

function yaml(extra = ''): string {
  return `
event_log_size: 1000
${extra}
services:
  qaagent: { name: QA Agent, url: "${stubs.qa.url}" }
  bugalizer: { name: Bug tracker, url: "${stubs.bugs.url}" }
workflows:
  full_pipeline:
    name: Full QA Pipeline
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent }
      - { type: submit_bugs, service: bugalizer, condition: has_failures }
      - { type: report, service: qaagent }
  parallel_end:
    name: Ends in a parallel batch
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, parallel: true }
      - { type: verify, service: qaagent, parallel: true }
  broken:
    name: Fails a step
    steps:
      - { type: discover, service: bugalizer }
      - { type: report, service: qaagent }
`;
}

interface Harness {
  config: AegisConfig;
  stores: Stores;
  logs: () => Record<string, unknown>[];
  queued: string[];
  run: (key: string, observers?: RunObserver[]) => Promise<RunResult>;
}

async function harness(extra = ''): Promise<Harness> {
  const config = configFrom(yaml(extra));
  const { logger, lines } = captureLogger();
  const context = new AegisContext({ config, configSource: null, env: {}, logger });
  onTestFinished(() => context.close());
  const queued: string[] = [];
  context.signals.on('deliveriesQueued', (runId) => queued.push(runId));
  return {
    config,
    stores: await context.stores(),
    logs: lines,
    queued,
    run: (key, observers = []) => context.runWorkflow(key, { observers }),
  };
}

/** An observer that runs after the recorder and reads the history back at each point of the run. */
function historyProbe(stores: Stores): {
  observer: RunObserver;
  seen: [string, HistoryRecord | undefined][];
} {
  const seen: [string, HistoryRecord | undefined][] = [];
  let runId = '';
  const look = async (when: string) => {
    const [newest] = await stores.history.listRuns({ limit: 1 });
    expect(newest?.run_id).toBe(runId);
    seen.push([when, newest]);
  };
  return {
    seen,
    observer: {
      runStarted: async (start) => {
        runId = start.run_id;
        await look('started');
      },
      stepFinished: (index) => look(`step ${index}`),
    },
  };
}

async function rows(stores: Stores, sql: string): Promise<Record<string, unknown>[]> {
  return (await stores.db.execute(sql)).rows.map((row) => ({ ...row }));
}

function errorLogs(logs: Record<string, unknown>[]): Record<string, unknown>[] {
  return logs.filter((line) => line.level === 'ERROR');
}

describe('recordRun: the history of a run as it goes', () => {
  it('is running with success null at the start, has each step as it finishes, and all of them at the end', async () => {
    const h = await harness();
    const probe = historyProbe(h.stores);

    const result = await h.run('full_pipeline', [probe.observer]);

    const summary = probe.seen.map(([when, run]) => [
      when,
      run?.status,
      run?.success,
      run?.step_count,
    ]);
    expect(summary).toEqual([
      ['started', 'running', null, 0],
      ['step 0', 'running', null, 1],
      ['step 1', 'running', null, 2],
      ['step 2', 'running', null, 3],
      // The last batch is written in the completion's transaction, not before.
      ['step 3', 'running', null, 3],
    ]);
    const [record] = await h.stores.history.listRuns({});
    expect(record).toEqual({
      run_id: result.run_id,
      workflow_name: 'full_pipeline',
      status: 'completed',
      success: true,
      queued_at: expect.any(String),
      started_at: result.started_at,
      completed_at: result.completed_at,
      duration_ms: result.duration_ms,
      trigger: 'cli',
      triggered_by: null,
      parent_run_id: null,
      reason: null,
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      step_count: 4,
      tests: { total: 3, passed: 2, failed: 1 },
      steps: result.steps.map((step) => ({
        step_type: step.step_type,
        service: step.service,
        success: step.success,
        skipped: step.skipped,
        reused: false,
        duration_ms: step.duration_ms,
        error: step.error,
        attempts: step.attempts.length,
      })),
    });
    const detail = await h.stores.history.getRun(result.run_id);
    expect(detail?.steps.map((step) => step.data)).toEqual(result.steps.map((step) => step.data));
    expect(errorLogs(h.logs())).toEqual([]);
  });

  it('writes a final parallel batch with the completion, in declared order', async () => {
    const h = await harness();
    const probe = historyProbe(h.stores);

    const result = await h.run('parallel_end', [probe.observer]);

    const finals = probe.seen.filter(([when]) => when === 'step 1' || when === 'step 2');
    expect(finals.map(([, run]) => run?.step_count)).toEqual([1, 1]);
    const record = await h.stores.history.getRun(result.run_id);
    expect(record?.status).toBe('completed');
    expect(record?.steps.map((step) => step.step_type)).toEqual(['discover', 'test', 'verify']);
  });

  it('records a failed run with the failing step', async () => {
    const h = await harness();

    const result = await h.run('broken');

    expect(result.success).toBe(false);
    expect(await h.stores.history.getRun(result.run_id)).toMatchObject({
      status: 'completed',
      success: false,
      steps: [
        {
          step_type: 'discover',
          success: false,
          error: expect.stringContaining('bugalizer GET /api/routes'),
        },
        { step_type: 'report', success: true },
      ],
    });
  });

  it('writes nothing of the completion when its transaction fails: the run stays running with the steps written before', async () => {
    const h = await harness();
    await h.stores.db.execute(`CREATE TRIGGER refuse_completion BEFORE UPDATE OF status ON runs
      WHEN NEW.status = 'completed' BEGIN SELECT RAISE(ABORT, 'disk said no'); END`);

    const result = await h.run('full_pipeline');

    expect(result.success).toBe(true); // the run itself went on
    expect(await h.stores.history.getRun(result.run_id)).toMatchObject({
      status: 'running',
      success: null,
      step_count: 3, // not the last step: it belongs to the completion that failed
    });
    expect(errorLogs(h.logs())).toMatchObject([
      {
        message: 'recording or reporting the run failed',
        run_id: result.run_id,
        error: expect.stringContaining('disk said no'),
      },
    ]);
  });

  it('writes a step whose own write failed together with the completion', async () => {
    const h = await harness();
    // The database refuses step 1 once, while a row is in `refuse_step`.
    await h.stores.db.batch(
      [
        'CREATE TABLE refuse_step (step_index INTEGER)',
        'INSERT INTO refuse_step VALUES (1)',
        `CREATE TRIGGER refuse_step_insert BEFORE INSERT ON run_steps
          WHEN NEW.step_index IN (SELECT step_index FROM refuse_step)
          BEGIN SELECT RAISE(ABORT, 'busy elsewhere'); END`,
      ],
      'write',
    );
    const clearsTheFault: RunObserver = {
      stepFinished: async (index) => {
        if (index === 1) await h.stores.db.execute('DELETE FROM refuse_step');
      },
    };

    const result = await h.run('full_pipeline', [clearsTheFault]);

    expect(await h.stores.history.getRun(result.run_id)).toMatchObject({
      status: 'completed',
      step_count: 4,
    });
    expect(errorLogs(h.logs())).toMatchObject([
      {
        message: 'recording or reporting the run failed',
        error: expect.stringContaining('busy elsewhere'),
      },
    ]);
  });
});

describe('recordRun: events and their webhook deliveries', () => {
  const EVENTS = [
    'workflow.started',
    'step.completed',
    'step.completed',
    'step.completed',
    'step.completed',
    'workflow.completed',
  ];

  it('stores every event of the run, in order, with its run id', async () => {
    const h = await harness();

    const result = await h.run('full_pipeline');

    const events = (await h.stores.events.list({ limit: 100 })).reverse();
    expect(events.map((e) => e.event_type)).toEqual(EVENTS);
    expect(
      events.every((e) => e.run_id === result.run_id && e.workflow_name === 'full_pipeline'),
    ).toBe(true);
    expect(events.at(-1)?.data).toMatchObject({ success: true, steps_passed: 4, steps_failed: 0 });
  });

  it('queues one pending delivery per event for a webhook on "*", and says so', async () => {
    const h = await harness('webhooks: [{ url: "https://hooks.example.test/all", events: ["*"] }]');

    const result = await h.run('full_pipeline');

    const deliveries = await rows(
      h.stores,
      'SELECT d.event_type, d.run_id, d.status, d.url, d.attempts FROM webhook_deliveries AS d ORDER BY d.id',
    );
    expect(deliveries).toEqual(
      EVENTS.map((event_type) => ({
        event_type,
        run_id: result.run_id,
        status: 'pending',
        url: 'https://hooks.example.test/all',
        attempts: 0,
      })),
    );
    expect(h.queued).toEqual(EVENTS.map(() => result.run_id));
  });

  it('queues one delivery per run for a webhook on workflow.completed only', async () => {
    const h = await harness(
      'webhooks: [{ url: "https://hooks.example.test/done", events: ["workflow.completed"] }]',
    );

    const first = await h.run('full_pipeline');
    const second = await h.run('broken');

    const deliveries = await rows(
      h.stores,
      'SELECT event_type, run_id FROM webhook_deliveries ORDER BY id',
    );
    expect(deliveries).toEqual([
      { event_type: 'workflow.completed', run_id: first.run_id },
      { event_type: 'workflow.completed', run_id: second.run_id },
    ]);
    expect(h.queued).toEqual([first.run_id, second.run_id]);
  });

  it('queues nothing and calls nobody without webhooks', async () => {
    const h = await harness();

    await h.run('full_pipeline');

    expect(await rows(h.stores, 'SELECT id FROM webhook_deliveries')).toEqual([]);
    expect(h.queued).toEqual([]);
  });

  it('writes an event and its deliveries in one transaction: neither without the other', async () => {
    const h = await harness('webhooks: [{ url: "https://hooks.example.test/all", events: ["*"] }]');
    await h.stores.db.execute(`CREATE TRIGGER refuse_step_delivery BEFORE INSERT ON webhook_deliveries
      WHEN NEW.event_type = 'step.completed' BEGIN SELECT RAISE(ABORT, 'outbox full'); END`);

    const result = await h.run('full_pipeline');

    const events = (await h.stores.events.list({ limit: 100 })).reverse().map((e) => e.event_type);
    const queued = await rows(h.stores, 'SELECT event_type FROM webhook_deliveries ORDER BY id');
    expect(events).toEqual(['workflow.started', 'workflow.completed']);
    expect(queued.map((row) => row.event_type)).toEqual(['workflow.started', 'workflow.completed']);
    // Delivery never fails a run: the run and its history are whole.
    expect(result.success).toBe(true);
    expect((await h.stores.history.getRun(result.run_id))?.step_count).toBe(4);
    expect(errorLogs(h.logs())).toHaveLength(4);
  });
});

describe('recordRun: a failing observer', () => {
  it('is logged and does not stop the run or its recording', async () => {
    const h = await harness();
    const broken: RunObserver = {
      stepFinished: () => {
        throw new Error('progress line failed');
      },
      event: async () => {
        throw new Error('listener failed');
      },
    };

    const result = await h.run('full_pipeline', [broken]);

    expect(result.success).toBe(true);
    expect(result.steps).toHaveLength(4);
    expect(await h.stores.history.getRun(result.run_id)).toMatchObject({
      status: 'completed',
      step_count: 4,
    });
    const errors = errorLogs(h.logs());
    expect(errors).toHaveLength(4 + 6);
    expect(errors[0]).toMatchObject({
      message: 'recording or reporting the run failed',
      workflow: 'full_pipeline',
      run_id: result.run_id,
    });
    expect(errors.map((line) => line.error)).toContain('progress line failed');
  });
});

describe('executing a run', () => {
  it('refuses an unknown workflow, naming the known ones, before recording anything', async () => {
    const h = await harness();

    await expect(h.run('nightly')).rejects.toThrow(
      'unknown workflow "nightly" (known: full_pipeline, parallel_end, broken)',
    );
    expect(await h.stores.history.listRuns({})).toEqual([]);
  });

  it('says when no workflows are configured', async () => {
    const config = configFrom('history_max_records: 0\n');
    const { logger } = captureLogger();
    const context = new AegisContext({ config, configSource: null, env: {}, logger });
    onTestFinished(() => context.close());

    await expect(context.runWorkflow('smoke')).rejects.toThrow(
      'unknown workflow "smoke" (no workflows are configured)',
    );
  });
});
