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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
