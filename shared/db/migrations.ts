/**
 * Part of migration 5, frozen with it: the median of one workflow-day's
 * durations from its histogram. Nearest rank (ceil(n / 2) of n), located by a
 * running count of the buckets, interpolated between the bucket's smallest
 * and largest duration (as shared/insight/insight-store.ts does for a period).
 */
function dayMedian(workflow: string, day: string): string {
  return `(SELECT min_ms + (max_ms - min_ms) * (rank - (upto - runs) - 1) / max(runs - 1, 1)
    FROM (SELECT runs, min_ms, max_ms,
        sum(runs) OVER (ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS upto,
        max(1, (sum(runs) OVER () * 50 + 99) / 100) AS rank
      FROM workflow_day_durations AS d WHERE d.workflow_name = ${workflow} AND d.day = ${day} AND d.runs > 0)
    WHERE upto >= rank AND upto - runs < rank)`;
}

/**
 * The schema, one migration per version. A database records the version it is
 * at and upgrades itself on open; never edit a migration once released, add one.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: history and events
  [
    `CREATE TABLE runs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL UNIQUE,
      workflow_name TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
      success INTEGER,
      started_at TEXT NOT NULL,
      completed_at TEXT,
      duration_ms REAL
    )`,
    // "Newest N of one workflow" and retention walk this index backwards (status makes it cover retention's
    // count of finished runs); "newest N of all" walks the primary key backwards. Neither reads past the page.
    'CREATE INDEX runs_by_workflow ON runs (workflow_name, seq, status)',
    // markInterrupted finds the runs a dead process left without reading the others.
    `CREATE INDEX runs_running ON runs (seq) WHERE status = 'running'`,
    `CREATE TABLE run_steps (
      run_id TEXT NOT NULL,
      step_index INTEGER NOT NULL,
      step_type TEXT NOT NULL,
      service TEXT NOT NULL,
      success INTEGER NOT NULL,
      skipped INTEGER NOT NULL,
      duration_ms REAL NOT NULL,
      error TEXT,
      attempts INTEGER NOT NULL,
      attempt_details TEXT NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (run_id, step_index)
    ) WITHOUT ROWID`,
    `CREATE TABLE events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      event_type TEXT NOT NULL,
      timestamp TEXT NOT NULL,
      workflow_name TEXT NOT NULL,
      run_id TEXT NOT NULL,
      data TEXT NOT NULL
    )`,
    'CREATE INDEX events_by_type ON events (event_type, id)',
  ],
  // 2: the webhook outbox
  [
    `CREATE TABLE webhook_deliveries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      webhook_id TEXT NOT NULL UNIQUE,
      url TEXT NOT NULL,
      event_type TEXT NOT NULL,
      run_id TEXT NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      last_status_code INTEGER,
      last_error TEXT,
      created_at TEXT NOT NULL,
      next_attempt_at INTEGER,
      delivered_at TEXT,
      claimed_until INTEGER,
      claim_token TEXT
    )`,
    `CREATE INDEX deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    'CREATE INDEX deliveries_by_status ON webhook_deliveries (status, id)',
    'CREATE INDEX deliveries_by_run ON webhook_deliveries (run_id)',
  ],
  // 3: the run queue (SPEC §11): queued and cancelled runs, leases, cancel requests, idempotency keys,
  // reruns, triggers and trace ids. SQLite cannot change a CHECK constraint, so runs is rebuilt.
  [
    `CREATE TABLE runs_v3 (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL UNIQUE,
      workflow_name TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'cancelled', 'interrupted')),
      success INTEGER,
      queued_at TEXT NOT NULL,
      started_at TEXT,
      completed_at TEXT,
      duration_ms REAL,
      trigger TEXT NOT NULL,
      triggered_by TEXT,
      parent_run_id TEXT,
      rerun_from TEXT CHECK (rerun_from IN ('failed', 'start')),
      reason TEXT,
      trace_id TEXT,
      parent_span_id TEXT,
      lease_owner TEXT,
      lease_until INTEGER,
      cancel_requested TEXT,
      concurrency_limit INTEGER,
      queue_deadline INTEGER,
      on_interrupt TEXT NOT NULL DEFAULT 'none',
      requeue_depth INTEGER NOT NULL DEFAULT 0
    )`,
    `INSERT INTO runs_v3 (seq, run_id, workflow_name, status, success, queued_at, started_at, completed_at, duration_ms, trigger)
      SELECT seq, run_id, workflow_name, status, success, started_at, started_at, completed_at, duration_ms, 'api' FROM runs`,
    'DROP TABLE runs',
    'ALTER TABLE runs_v3 RENAME TO runs',
    // Newest first, of one workflow or of all, with or without a status: each walks an index backwards.
    'CREATE INDEX runs_by_workflow ON runs (workflow_name, seq, status)',
    'CREATE INDEX runs_by_workflow_status ON runs (workflow_name, status, seq)',
    'CREATE INDEX runs_by_status ON runs (status, seq)',
    // The claim takes the oldest queued run; the reconciler looks only at running runs' leases.
    `CREATE INDEX runs_queued ON runs (seq) WHERE status = 'queued'`,
    `CREATE INDEX runs_leased ON runs (lease_until) WHERE status = 'running'`,
    'ALTER TABLE run_steps ADD COLUMN reused INTEGER NOT NULL DEFAULT 0',
    `CREATE TABLE idempotency_keys (
      idem_key TEXT PRIMARY KEY,
      workflow_name TEXT NOT NULL,
      run_id TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) WITHOUT ROWID`,
  ],
  // 4: the webhook attempt log: every attempt's outcome, also one a redelivery overtook
  [
    `CREATE TABLE webhook_attempts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      delivery_id INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      at TEXT NOT NULL,
      status_code INTEGER,
      error TEXT,
      outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed'))
    )`,
    'CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id)',
  ],
  // 5: triggers (SPEC §12): one row per schedule tick and per inbound delivery, claimed in the batch that
  // queues its run, so that several processes start one run per tick and per delivery id.
  [
    `CREATE TABLE schedule_ticks (
      workflow_name TEXT NOT NULL,
      tick_at INTEGER NOT NULL,
      cron TEXT NOT NULL,
      run_id TEXT NOT NULL,
      claimed_at INTEGER NOT NULL,
      PRIMARY KEY (workflow_name, tick_at)
    ) WITHOUT ROWID`,
    // GET /api/schedules: the newest tick of each expression.
    'CREATE INDEX schedule_ticks_by_cron ON schedule_ticks (workflow_name, cron, tick_at)',
    `CREATE TABLE trigger_deliveries (
      trigger_name TEXT NOT NULL,
      delivery_id TEXT NOT NULL,
      run_id TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      PRIMARY KEY (trigger_name, delivery_id)
    ) WITHOUT ROWID`,
    'CREATE INDEX trigger_deliveries_by_time ON trigger_deliveries (received_at)',
  ],
  // 6: test insight (SPEC §14): each test's result per test/verify step, each such step's counts, what
  // submit_bugs handed on, and per-day roll-ups of runs, durations and test counts for the trends. The
  // roll-ups are kept by triggers, so every way a run ends (finish, cancel, queue timeout, reconcile) and
  // retention's deletes update them in the same statement. A migration that rebuilds `runs` or
  // `test_steps` must create their triggers again.
  [
    `CREATE TABLE test_results (
      run_id TEXT NOT NULL,
      test TEXT NOT NULL,
      step_index INTEGER NOT NULL,
      run_seq INTEGER NOT NULL,
      workflow_name TEXT NOT NULL,
      step_type TEXT NOT NULL,
      service TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'skipped')),
      inferred INTEGER NOT NULL DEFAULT 0,
      duration_ms REAL,
      PRIMARY KEY (run_id, test, step_index)
    ) WITHOUT ROWID`,
    // The flaky list reads a workflow's newest runs' results from this index alone.
    'CREATE INDEX test_results_by_workflow ON test_results (workflow_name, run_seq, test, status, step_type, step_index)',
    // Inferred passes look up which tests a service of the workflow failed lately.
    `CREATE INDEX test_results_failed ON test_results (workflow_name, service, run_seq, test, step_index)
      WHERE status = 'failed'`,
    // One row per test or verify step that answered: the counts the agent reported, for the run lists.
    `CREATE TABLE test_steps (
      run_id TEXT NOT NULL,
      step_index INTEGER NOT NULL,
      run_seq INTEGER NOT NULL,
      workflow_name TEXT NOT NULL,
      day TEXT NOT NULL,
      step_type TEXT NOT NULL,
      reused INTEGER NOT NULL,
      total INTEGER NOT NULL,
      passed INTEGER NOT NULL,
      failed INTEGER NOT NULL,
      PRIMARY KEY (run_id, step_index)
    ) WITHOUT ROWID`,
    // A workflow's runs that ran tests, newest first: the window of the flaky list and of inference.
    'CREATE INDEX test_steps_by_workflow ON test_steps (workflow_name, run_seq) WHERE reused = 0',
    // What each submit_bugs step handed on, by test: submitted (fingerprint = sha256 of test name and error
    // text, what dedupe compares) or left out as submitted before (fingerprint '', never matched).
    `CREATE TABLE bug_reports (
      run_id TEXT NOT NULL,
      test TEXT NOT NULL,
      step_index INTEGER NOT NULL,
      fingerprint TEXT NOT NULL,
      workflow_name TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (run_id, test, step_index, fingerprint)
    ) WITHOUT ROWID`,
    `CREATE INDEX bug_reports_by_fingerprint ON bug_reports (workflow_name, fingerprint, at) WHERE fingerprint != ''`,
    // Per workflow and UTC day of queued_at: the ended runs by outcome, and the tests the agents counted.
    `CREATE TABLE workflow_days (
      workflow_name TEXT NOT NULL,
      day TEXT NOT NULL,
      runs INTEGER NOT NULL DEFAULT 0,
      succeeded INTEGER NOT NULL DEFAULT 0,
      failed INTEGER NOT NULL DEFAULT 0,
      cancelled INTEGER NOT NULL DEFAULT 0,
      interrupted INTEGER NOT NULL DEFAULT 0,
      tests_total INTEGER NOT NULL DEFAULT 0,
      tests_failed INTEGER NOT NULL DEFAULT 0,
      -- The median duration of the day's completed runs, from the histogram below, kept as runs end.
      p50_ms REAL,
      PRIMARY KEY (workflow_name, day)
    ) WITHOUT ROWID`,
    // A histogram of completed runs' durations per workflow and day, in buckets of two significant digits
    // (…, 9.9, 10, 11, …, 99, 100, 110, … ms), each with its smallest and largest duration: percentiles read
    // a few rows per day instead of every run.
    `CREATE TABLE workflow_day_durations (
      workflow_name TEXT NOT NULL,
      day TEXT NOT NULL,
      bucket REAL NOT NULL,
      runs INTEGER NOT NULL,
      min_ms REAL NOT NULL,
      max_ms REAL NOT NULL,
      PRIMARY KEY (workflow_name, day, bucket)
    ) WITHOUT ROWID`,
    // A period's percentiles add up each bucket over its days, in bucket order: no sort.
    `CREATE INDEX workflow_durations_by_bucket
      ON workflow_day_durations (workflow_name, bucket, day, runs, min_ms, max_ms)`,
    `CREATE TRIGGER test_steps_counted AFTER INSERT ON test_steps WHEN new.reused = 0
    BEGIN
      INSERT INTO workflow_days (workflow_name, day, tests_total, tests_failed)
        VALUES (new.workflow_name, new.day, new.total, new.failed)
        ON CONFLICT (workflow_name, day) DO UPDATE SET
          tests_total = tests_total + excluded.tests_total, tests_failed = tests_failed + excluded.tests_failed;
    END`,
    `CREATE TRIGGER test_steps_uncounted AFTER DELETE ON test_steps WHEN old.reused = 0
    BEGIN
      UPDATE workflow_days SET tests_total = tests_total - old.total, tests_failed = tests_failed - old.failed
        WHERE workflow_name = old.workflow_name AND day = old.day;
    END`,
    // The runs and test steps a history already holds, counted as the triggers and the recorder would have.
    `INSERT INTO workflow_days (workflow_name, day, runs, succeeded, failed, cancelled, interrupted)
      SELECT workflow_name, substr(queued_at, 1, 10), count(*),
        sum(status = 'completed' AND success IS 1), sum(status = 'completed' AND success IS 0),
        sum(status = 'cancelled'), sum(status = 'interrupted')
      FROM runs WHERE status IN ('completed', 'cancelled', 'interrupted') GROUP BY 1, 2`,
    `INSERT INTO workflow_day_durations (workflow_name, day, bucket, runs, min_ms, max_ms)
      SELECT workflow_name, substr(queued_at, 1, 10), CAST(printf('%.1e', duration_ms) AS REAL), count(*),
        min(duration_ms), max(duration_ms)
      FROM runs WHERE status = 'completed' AND duration_ms IS NOT NULL GROUP BY 1, 2, 3`,
    `UPDATE workflow_days SET p50_ms = ${dayMedian('workflow_days.workflow_name', 'workflow_days.day')}`,
    `INSERT INTO test_steps (run_id, step_index, run_seq, workflow_name, day, step_type, reused, total, passed, failed)
      SELECT run_id, step_index, seq, workflow_name, day, step_type, reused, max(total, passed + failed), passed, failed
      FROM (
        SELECT s.run_id, s.step_index, r.seq, r.workflow_name, substr(r.queued_at, 1, 10) AS day, s.step_type,
          s.reused, coalesce(json_extract(s.data, '$.total'), 0) AS total,
          coalesce(json_extract(s.data, '$.passed'), 0) AS passed,
          max(coalesce(json_extract(s.data, '$.failed'), 0), coalesce(json_array_length(s.data, '$.failures'), 0))
            AS failed
        FROM run_steps AS s JOIN runs AS r ON r.run_id = s.run_id
        WHERE s.step_type IN ('test', 'verify') AND s.success = 1 AND s.skipped = 0)`,
    `CREATE TRIGGER runs_ended AFTER UPDATE OF status ON runs
      WHEN old.status IN ('queued', 'running') AND new.status IN ('completed', 'cancelled', 'interrupted')
    BEGIN
      INSERT INTO workflow_days (workflow_name, day, runs, succeeded, failed, cancelled, interrupted)
        VALUES (new.workflow_name, substr(new.queued_at, 1, 10), 1,
          new.status = 'completed' AND new.success IS 1, new.status = 'completed' AND new.success IS 0,
          new.status = 'cancelled', new.status = 'interrupted')
        ON CONFLICT (workflow_name, day) DO UPDATE SET runs = runs + 1,
          succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
          cancelled = cancelled + excluded.cancelled, interrupted = interrupted + excluded.interrupted;
      INSERT INTO workflow_day_durations (workflow_name, day, bucket, runs, min_ms, max_ms)
        SELECT new.workflow_name, substr(new.queued_at, 1, 10), CAST(printf('%.1e', new.duration_ms) AS REAL), 1,
          new.duration_ms, new.duration_ms
        WHERE new.status = 'completed' AND new.duration_ms IS NOT NULL
        ON CONFLICT (workflow_name, day, bucket) DO UPDATE SET runs = runs + 1,
          min_ms = min(min_ms, excluded.min_ms), max_ms = max(max_ms, excluded.max_ms);
      UPDATE workflow_days SET p50_ms = ${dayMedian('new.workflow_name', 'substr(new.queued_at, 1, 10)')}
        WHERE new.status = 'completed' AND new.duration_ms IS NOT NULL
          AND workflow_name = new.workflow_name AND day = substr(new.queued_at, 1, 10);
    END`,
    // Retention deletes ended runs: the trends describe the history that is kept.
    `CREATE TRIGGER runs_deleted AFTER DELETE ON runs
      WHEN old.status IN ('completed', 'cancelled', 'interrupted')
    BEGIN
      UPDATE workflow_days SET runs = runs - 1,
          succeeded = succeeded - (old.status = 'completed' AND old.success IS 1),
          failed = failed - (old.status = 'completed' AND old.success IS 0),
          cancelled = cancelled - (old.status = 'cancelled'), interrupted = interrupted - (old.status = 'interrupted')
        WHERE workflow_name = old.workflow_name AND day = substr(old.queued_at, 1, 10);
      UPDATE workflow_day_durations SET runs = runs - 1
        WHERE old.status = 'completed' AND workflow_name = old.workflow_name AND day = substr(old.queued_at, 1, 10)
          AND bucket = CAST(printf('%.1e', old.duration_ms) AS REAL);
      DELETE FROM workflow_day_durations
        WHERE workflow_name = old.workflow_name AND day = substr(old.queued_at, 1, 10) AND runs <= 0;
      UPDATE workflow_days SET p50_ms = ${dayMedian('old.workflow_name', 'substr(old.queued_at, 1, 10)')}
        WHERE old.status = 'completed' AND workflow_name = old.workflow_name AND day = substr(old.queued_at, 1, 10);
    END`,
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;
