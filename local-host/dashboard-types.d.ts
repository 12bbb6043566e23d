// The API's answers, as the dashboard reads them (shared/http-api/schemas.ts is the source of
// truth). Global, for the dashboard's JSDoc (`{Api.Workflow}`): tsconfig.dashboard.json includes
// it, the browser never loads it, and it stays out of the served folder.

declare namespace Api {
  interface Health {
    status: 'ok';
    version: string;
    uptime_seconds: number;
    services_configured: number;
    workflows_configured: number;
  }

  type HealthStatus = 'healthy' | 'unhealthy' | 'unreachable' | 'timeout';

  interface Service {
    key: string;
    name: string;
    description: string;
    url: string;
    features: string[];
    status: HealthStatus;
    latency_ms: number;
    error: string | null;
  }

  interface WorkflowStep {
    type: string;
    service: string;
    condition: string | null;
    parallel: boolean;
    retries: number;
    retry_delay: number;
    timeout: number;
  }

  interface Workflow {
    key: string;
    name: string;
    steps: WorkflowStep[];
  }

  interface Attempt {
    attempt: number;
    success: boolean;
    error: string | null;
    duration_ms: number;
  }

  interface HistoryStep {
    step_type: string;
    service: string;
    success: boolean;
    skipped: boolean;
    reused: boolean;
    duration_ms: number;
    error: string | null;
    attempts: number;
  }

  interface HistoryStepDetail extends HistoryStep {
    data: Record<string, unknown>;
    attempt_details: Attempt[];
  }

  type RunStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'interrupted';

  interface TestCounts {
    total: number;
    passed: number;
    failed: number;
  }

  interface RunFields {
    run_id: string;
    workflow_name: string;
    status: RunStatus;
    success: boolean | null;
    queued_at: string;
    started_at: string | null;
    completed_at: string | null;
    duration_ms: number | null;
    trigger: string;
    triggered_by: string | null;
    parent_run_id: string | null;
    reason: string | null;
    step_count: number;
    tests: TestCounts | null;
  }

  interface HistoryRecord extends RunFields {
    steps: HistoryStep[];
  }

  interface HistoryRecordDetail extends RunFields {
    steps: HistoryStepDetail[];
  }

  interface RunAccepted {
    run_id: string;
    status: RunStatus;
    url: string;
  }

  interface TestInsight {
    test: string;
    failures: number;
    passes: number;
    flips: number;
    failure_rate: number;
    last_failed_at: string | null;
    last_failed_run_id: string | null;
    flaky: boolean;
  }

  interface DayStats {
    date: string;
    runs: number;
    succeeded: number;
    failed: number;
    p50_ms: number | null;
  }

  interface WorkflowStats {
    days: number;
    since: string;
    runs: number;
    succeeded: number;
    failed: number;
    cancelled: number;
    interrupted: number;
    success_rate: number | null;
    duration_ms: { p50: number | null; p95: number | null };
    tests: { total: number; failed: number; failed_rate: number | null };
    by_day: DayStats[];
  }

  interface Schedule {
    workflow: string;
    cron: string;
    timezone: string;
    next_run_at: string | null;
    last_run_id: string | null;
  }

  interface StoredEvent {
    id: number;
    event_type: string;
    timestamp: string;
    workflow_name: string;
    run_id: string;
    data: Record<string, unknown>;
  }

  interface Webhook {
    url: string;
    events: string[];
    signed: boolean;
  }

  interface Delivery {
    id: number;
    webhook_id: string;
    event_type: string;
    run_id: string;
    url: string;
    status: 'pending' | 'delivered' | 'failed';
    attempts: number;
    last_status_code: number | null;
    last_error: string | null;
    created_at: string;
    next_attempt_at: string | null;
    delivered_at: string | null;
  }
}

/** The dashboard's own shapes. */
declare namespace Ui {
  /** null, undefined and false leave the attribute or child out. */
  type AttrValue = string | number | boolean | null | undefined;
  type Child = Node | string | null | undefined | false;

  type Route =
    | { view: 'overview' }
    | { view: 'run'; id: string }
    | { view: 'workflow'; key: string; params: URLSearchParams };

  /** The workflow view's period, history filter and page, from its address. */
  interface Query {
    key: string;
    days: number;
    status: string;
    offset: number;
    limit: number;
  }

  /** What the page knows (app.js), which the cards and views show. */
  interface PageState {
    /** null until the first answer. */
    online: boolean | null;
    /** The event stream is open. */
    live: boolean;
    workflows: Api.Workflow[];
    workflowsByKey: Map<string, Api.Workflow>;
    history: Api.HistoryRecord[];
    webhooks: Api.Webhook[] | null;
    schedules: Api.Schedule[];
    /** Workflows whose POST …/run is in flight from this page. */
    running: Set<string>;
    /** How the last run started from this page went, per workflow. */
    messages: Map<string, Message>;
    servicesInFlight: boolean;
  }

  type Tone = 'ok' | 'fail' | 'skip' | 'warn' | 'info' | 'muted';

  /** A status pill: a symbol and a word, so no state is told by colour alone. */
  interface Status {
    tone: Tone;
    symbol: string;
    label: string;
  }

  /** A status line's text and tone: a run started from the page, a button's outcome. */
  interface Message {
    tone: 'ok' | 'fail';
    text: string;
  }

  interface Outcome<T> extends Message {
    result?: T;
  }
}
