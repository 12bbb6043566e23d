import { describe, expect, it } from 'vitest';
import { openStores, type Stores } from '#shared/stores.ts';
import { claimRun, finishRun, OWNER, queueRun, step } from '#test/support/runs.ts';
import { configFrom, tempStores } from '#test/support/temp.ts';
import { IDEMPOTENCY_WINDOW_MS, MAX_REQUEUE_DEPTH } from './run-queue.ts';

function stores(): Promise<Stores> {
  return tempStores(configFrom('history_max_records: 0\n'));
}

/** Another client on the same file, as another process has. */
async function secondClient(s: Stores): Promise<Stores> {
  const path = String((await s.db.execute('PRAGMA database_list')).rows[0]?.file);
  const other = await openStores(configFrom(`history_db_path: ${path}\n`), {});
  return other;
}

async function statusOf(s: Stores, runId: string) {
  return (await s.history.getRun(runId))?.status;
}

const claimNext = (s: Stores, owner = OWNER, workflows = ['smoke', 'nightly']) =>
  s.queue.claim({ owner, leaseMs: 60_000, workflows });

describe('RunQueue: queueing and claiming', () => {
  it('claims the oldest queued run first, each run once, only for workflows the claimer knows', async () => {
    const s = await stores();
    const first = await queueRun(s, 'smoke');
    const other = await queueRun(s, 'elsewhere');
    const second = await queueRun(s, 'nightly');

    const a = await claimNext(s);
    const b = await claimNext(s);
    const c = await claimNext(s);

    expect([a?.runId, b?.runId, c]).toEqual([first, second, null]);
    expect(a).toMatchObject({ workflow: 'smoke', trigger: 'api', rerunFrom: null });
    expect(await statusOf(s, other)).toBe('queued');
    expect(await s.queue.hasQueued(['smoke', 'nightly'])).toBe(false);
    expect(await s.queue.hasQueued(['elsewhere'])).toBe(true);
  });

  it('gives each of many queued runs to exactly one of two clients claiming at once', async () => {
    const s = await stores();
    const other = await secondClient(s);
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) ids.add(await queueRun(s));
      const claimAll = async (client: Stores, owner: string) => {
        const got: string[] = [];
        for (;;) {
          const claim = await claimNext(client, owner);
          if (!claim) return got;
          got.push(claim.runId);
        }
      };

      const [mine, theirs] = await Promise.all([claimAll(s, 'a'), claimAll(other, 'b')]);

      expect([...mine, ...theirs].sort()).toEqual([...ids].sort());
      expect(new Set([...mine, ...theirs]).size).toBe(30);
    } finally {
      other.db.close();
    }
  });

  it('claims one given run only while it is queued', async () => {
    const s = await stores();
    const runId = await queueRun(s);
    await claimRun(s, runId);
    const again = await s.queue.claim({
      owner: 'another',
      leaseMs: 1_000,
      workflows: ['smoke'],
      runId,
    });
    expect(again).toBeNull();
  });
});

describe('RunQueue: Idempotency-Key', () => {
  it('answers the run the key started, for the same workflow, and never queues a second', async () => {
    const s = await stores();
    const first = await s.queue.enqueue({
      workflow: 'smoke',
      settings: { on_interrupt: 'none' },
      trigger: 'api',
      idempotencyKey: 'deploy-42',
    });
    const again = await s.queue.enqueue({
      workflow: 'smoke',
      settings: { on_interrupt: 'none' },
      trigger: 'api',
      idempotencyKey: 'deploy-42',
    });
    const elsewhere = await s.queue.enqueue({
      workflow: 'nightly',
      settings: { on_interrupt: 'none' },
      trigger: 'api',
      idempotencyKey: 'deploy-42',
    });

    expect(first.kind).toBe('queued');
    expect(again).toEqual({ kind: 'existing', runId: first.kind === 'queued' ? first.runId : '' });
    expect(elsewhere).toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('was used for workflow "smoke"'),
    });
    expect(await s.history.listRuns({ limit: 10 })).toHaveLength(1);
  });

  it('starts a new run once the key is older than 24 h', async () => {
    const s = await stores();
    const now = Date.now();
    const request = {
      workflow: 'smoke',
      settings: { on_interrupt: 'none' as const },
      trigger: 'api' as const,
      idempotencyKey: 'k',
    };
    const old = await s.queue.enqueue({ ...request, now: now - IDEMPOTENCY_WINDOW_MS - 1 });
    const fresh = await s.queue.enqueue({ ...request, now });
    expect(old.kind).toBe('queued');
    expect(fresh.kind).toBe('queued');
  });

  it('gives one run to many requests with the same key at once, from two clients', async () => {
    const s = await stores();
    const other = await secondClient(s);
    try {
      const request = {
        workflow: 'smoke',
        settings: { on_interrupt: 'none' as const },
        trigger: 'api' as const,
        idempotencyKey: 'burst',
      };
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : s).queue.enqueue(request)),
      );
      const ids = new Set(
        outcomes.map((o) => (o.kind === 'queued' || o.kind === 'existing' ? o.runId : 'x')),
      );
      expect(ids.size).toBe(1);
      expect(outcomes.filter((o) => o.kind === 'queued')).toHaveLength(1);
    } finally {
      other.db.close();
    }
  });
});

describe('RunQueue: concurrency', () => {
  const limited = (limit: number, on_conflict: 'queue' | 'reject' | 'cancel_running') => ({
    settings: { concurrency: { limit, on_conflict }, on_interrupt: 'none' as const },
  });

  it('queue: runs beyond the limit wait, and start oldest first as room appears', async () => {
    const s = await stores();
    const a = await queueRun(s, 'smoke', limited(1, 'queue'));
    const b = await queueRun(s, 'smoke', limited(1, 'queue'));
    const c = await queueRun(s, 'smoke', limited(1, 'queue'));

    expect((await claimNext(s))?.runId).toBe(a);
    expect(await claimNext(s)).toBeNull(); // b waits while a runs
    await finishRun(s, a, []);
    expect((await claimNext(s))?.runId).toBe(b);
    expect(await statusOf(s, c)).toBe('queued');
  });

  it('reject: refuses a run beyond the limit and records nothing', async () => {
    const s = await stores();
    await queueRun(s, 'smoke', limited(1, 'reject'));
    const refused = await s.queue.enqueue({
      workflow: 'smoke',
      trigger: 'api',
      idempotencyKey: 'try-1',
      ...limited(1, 'reject'),
    });
    expect(refused).toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('on_conflict: reject'),
    });
    expect(await s.history.listRuns({})).toHaveLength(1);
    // The refused key is free again: a retry after the first run ends starts one.
    const [only] = await s.history.listRuns({});
    await s.queue.requestCancel(String(only?.run_id), 'done with it');
    const retried = await s.queue.enqueue({
      workflow: 'smoke',
      trigger: 'api',
      idempotencyKey: 'try-1',
      ...limited(1, 'reject'),
    });
    expect(retried.kind).toBe('queued');
  });

  it('cancel_running: the oldest active run makes room, cancelled at once when queued, asked to stop when running', async () => {
    const s = await stores();
    const running = await queueRun(s, 'smoke', limited(1, 'cancel_running'));
    await claimRun(s, running);

    const second = await s.queue.enqueue({
      workflow: 'smoke',
      trigger: 'api',
      ...limited(1, 'cancel_running'),
    });
    if (second.kind !== 'queued') throw new Error('not queued');
    expect(second).toMatchObject({ supersededQueued: [], supersededRunning: [running] });
    const requests = await s.queue.cancelRequests(OWNER);
    expect(requests.get(running)).toBe(`superseded by ${second.runId}`);

    const third = await s.queue.enqueue({
      workflow: 'smoke',
      trigger: 'api',
      ...limited(1, 'cancel_running'),
    });
    if (third.kind !== 'queued') throw new Error('not queued');
    // `second` was still queued: cancelled at once. `running` was asked already.
    expect(third.supersededQueued).toEqual([{ runId: second.runId, workflow: 'smoke' }]);
    expect(third.supersededRunning).toEqual([]);
    expect(await s.history.getRun(second.runId)).toMatchObject({
      status: 'cancelled',
      reason: `superseded by ${third.runId}`,
    });
  });
});

describe('RunQueue: cancel', () => {
  it('cancels a queued run at once, asks a running one, and says when a run has ended or is unknown', async () => {
    const s = await stores();
    const queued = await queueRun(s);
    const running = await queueRun(s);
    await claimRun(s, running);
    const ended = await queueRun(s);
    await claimRun(s, ended);
    await finishRun(s, ended, []);

    expect(await s.queue.requestCancel(queued, 'no longer needed')).toEqual({
      kind: 'cancelled',
      workflow: 'smoke',
    });
    expect(await s.history.getRun(queued)).toMatchObject({
      status: 'cancelled',
      reason: 'no longer needed',
      started_at: null,
    });
    expect(await s.queue.requestCancel(running, 'stop')).toEqual({ kind: 'requested' });
    expect(await s.queue.requestCancel(running, 'stop again')).toEqual({ kind: 'requested' });
    expect((await s.queue.cancelRequests(OWNER)).get(running)).toBe('stop');
    expect(await s.queue.requestCancel(ended, 'too late')).toEqual({
      kind: 'ended',
      status: 'completed',
    });
    expect(await s.queue.requestCancel('no-such-run', 'x')).toEqual({ kind: 'missing' });
  });
});

describe('RunQueue: leases and lost workers', () => {
  it('renews the leases its owner holds, and reports which it still holds', async () => {
    const s = await stores();
    const mine = await queueRun(s);
    await claimRun(s, mine, { leaseMs: 1_000 });
    const theirs = await queueRun(s);
    await claimRun(s, theirs, { owner: 'someone-else' });

    const renewal = await s.queue.renew({ owner: OWNER, leaseMs: 60_000 });

    expect([...renewal.held]).toEqual([mine]);
    const lease = await s.db.execute({
      sql: 'SELECT lease_until FROM runs WHERE run_id = ?',
      args: [mine],
    });
    expect(Number(lease.rows[0]?.lease_until)).toBeGreaterThan(Date.now() + 50_000);
  });

  it('interrupts only runs whose lease expired, keeping their steps, and never a live one', async () => {
    const s = await stores();
    const now = Date.now();
    const dead = await queueRun(s);
    await claimRun(s, dead, { leaseMs: 1_000, now: now - 10_000 });
    await s.history.recordStep(dead, 0, step('discover'), OWNER);
    const alive = await queueRun(s);
    await claimRun(s, alive, { leaseMs: 60_000 });

    const outcome = await s.queue.reconcile(now);

    expect(outcome).toEqual({
      interrupted: [{ runId: dead, workflow: 'smoke' }],
      requeued: [],
      timedOut: [],
    });
    expect(await s.history.getRun(dead)).toMatchObject({
      status: 'interrupted',
      reason: 'worker lost',
      step_count: 1,
    });
    expect(await statusOf(s, alive)).toBe('running');
    expect((await s.queue.reconcile(now)).interrupted).toEqual([]);
  });

  it('requeues an interrupted run of an on_interrupt: requeue workflow once, up to a chain of MAX_REQUEUE_DEPTH', async () => {
    const s = await stores();
    const settings = { settings: { on_interrupt: 'requeue' as const } };
    let current = await queueRun(s, 'smoke', settings);
    const chain: string[] = [current];
    for (let i = 0; i <= MAX_REQUEUE_DEPTH; i++) {
      await claimRun(s, current, { leaseMs: 1, now: Date.now() - 1_000 });
      const { requeued } = await s.queue.reconcile();
      if (i === MAX_REQUEUE_DEPTH) {
        expect(requeued).toEqual([]);
        break;
      }
      expect(requeued).toHaveLength(1);
      const rerun = await s.history.getRun(requeued[0] as string);
      expect(rerun).toMatchObject({ status: 'queued', trigger: 'rerun', parent_run_id: current });
      current = requeued[0] as string;
      chain.push(current);
    }
    expect(chain).toHaveLength(MAX_REQUEUE_DEPTH + 1);
  });

  it('cancels runs that waited queued past their queue_timeout', async () => {
    const s = await stores();
    const now = Date.now();
    const impatient = await queueRun(s, 'smoke', {
      settings: { queue_timeout: 5, on_interrupt: 'none' },
      now: now - 6_000,
    });
    const patient = await queueRun(s, 'smoke', {
      settings: { queue_timeout: 60, on_interrupt: 'none' },
      now: now - 6_000,
    });

    const outcome = await s.queue.reconcile(now);

    expect(outcome.timedOut).toEqual([{ runId: impatient, workflow: 'smoke' }]);
    expect(await s.history.getRun(impatient)).toMatchObject({
      status: 'cancelled',
      reason: 'queue timeout',
    });
    expect(await statusOf(s, patient)).toBe('queued');
  });

  it('ends a run with the status its executor gives, and requeues an interrupted one that asks for it', async () => {
    const s = await stores();
    const runId = await queueRun(s, 'smoke', { settings: { on_interrupt: 'requeue' } });
    await claimRun(s, runId);
    const ended = await finishRun(s, runId, [{ index: 0, step: step('discover') }], {
      status: 'interrupted',
      success: null,
      reason: 'host shutting down',
    });
    expect(ended.recorded).toBe(true);
    expect(ended.requeuedRunId).not.toBeNull();
    expect(await s.history.getRun(runId)).toMatchObject({
      status: 'interrupted',
      reason: 'host shutting down',
      step_count: 1,
    });
    expect(await s.history.getRun(String(ended.requeuedRunId))).toMatchObject({
      status: 'queued',
      trigger: 'rerun',
      parent_run_id: runId,
    });
  });
});
