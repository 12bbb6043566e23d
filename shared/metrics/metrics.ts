import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Stores } from '../stores.ts';
import type { AttemptOutcome } from '../webhooks/outbox.ts';
import type { RunObserver } from '../workflow/run-workflow.ts';
import type { RunResult } from '../workflow/types.ts';
import { type DatabaseSnapshot, readDatabaseSnapshot } from './database-gauges.ts';

/** Run and step durations: from a fast stub call to a long test suite. */
const RUN_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const STEP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** API answers: most are sub-millisecond to a few ms; a synchronous run takes as long as the run. */
const HTTP_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** prom-client's default gauges whose `_total` suffix breaks the naming rules promtool checks. */
const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export type RunOutcomeLabel = 'success' | 'failure' | 'cancelled' | 'interrupted';
export type DeliveryOutcomeLabel = 'delivered' | 'failed' | 'retried';

const DELIVERY_LABELS: Readonly<Record<AttemptOutcome['kind'], DeliveryOutcomeLabel>> = {
  delivered: 'delivered',
  retry: 'retried',
  failed: 'failed',
};

export function runOutcomeLabel(result: Pick<RunResult, 'status' | 'success'>): RunOutcomeLabel {
  if (result.status === 'completed') return result.success ? 'success' : 'failure';
  return result.status;
}

export interface MetricsOptions {
  /** The process's database, which the queue and outbox gauges read at scrape time. */
  stores: () => Promise<Stores>;
  /** The configured workflows: reported as 0 when none of their runs waits or runs. */
  workflows: readonly string[];
  logger: Logger;
}

/**
 * The Prometheus metrics of one process (SPEC §13), in a registry of its own
 * (never prom-client's global one): each context has its own, so tests and
 * several hosts in one process never mix their counts. Counters count what
 * this process did; the queue and outbox gauges read the database when
 * scraped, so every host sharing it reports the same.
 */
export class AegisMetrics {
  readonly registry = new Registry();
  readonly #options: MetricsOptions;
  /** Node's process metrics are registered at the first scrape: a CLI run or a test that never scrapes starts no monitors. */
  #defaultsRegistered = false;
  /** The scrape's one database read, shared by the gauges that all collect at once. */
  #snapshot: Promise<DatabaseSnapshot | null> | undefined;
  /** Which workflow each run in progress belongs to: a step's report names only the run. */
  readonly #workflowOfRun = new Map<string, string>();

  readonly #runs: Counter<'workflow' | 'status'>;
  readonly #runDuration: Histogram<'workflow'>;
  readonly #stepDuration: Histogram<'workflow' | 'step_type'>;
  readonly #stepAttempts: Counter<'workflow' | 'step_type' | 'outcome'>;
  readonly #deliveries: Counter<'outcome'>;
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #requestDuration: Histogram<'method' | 'route'>;
  readonly #serviceUp: Gauge<'service'>;

  constructor(options: MetricsOptions) {
    this.#options = options;
    const registers = [this.registry];
    this.#runs = new Counter({
      name: 'aegis_runs_total',
      help: 'Runs this process executed, by how they ended.',
      labelNames: ['workflow', 'status'],
      registers,
    });
    this.#runDuration = new Histogram({
      name: 'aegis_run_duration_seconds',
      help: 'How long the runs this process executed took, from claim to end.',
      labelNames: ['workflow'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.#stepDuration = new Histogram({
      name: 'aegis_step_duration_seconds',
      help: 'How long each executed step took, retries included (skipped and reused steps are not counted).',
      labelNames: ['workflow', 'step_type'],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.#stepAttempts = new Counter({
      name: 'aegis_step_attempts_total',
      help: 'Step attempts this process made, by outcome (success or failure).',
      labelNames: ['workflow', 'step_type', 'outcome'],
      registers,
    });
    const snapshot = () => this.#readSnapshot();
    const workflows = options.workflows;
    new Gauge({
      name: 'aegis_runs_queued',
      help: 'Runs waiting in the queue, from the database (the same on every host).',
      labelNames: ['workflow'],
      registers,
      async collect() {
        setByWorkflow(this, workflows, (await snapshot())?.queued);
      },
    });
    new Gauge({
      name: 'aegis_runs_running',
      help: 'Runs being executed by any process, from the database (the same on every host).',
      labelNames: ['workflow'],
      registers,
      async collect() {
        setByWorkflow(this, workflows, (await snapshot())?.running);
      },
    });
    this.#deliveries = new Counter({
      name: 'aegis_webhook_deliveries_total',
      help: 'Webhook delivery attempts this process made, by outcome (delivered, retried, failed).',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'aegis_webhook_outbox_pending',
      help: 'Webhook deliveries waiting to be sent, from the database (the same on every host).',
      registers,
      async collect() {
        const pending = (await snapshot())?.outboxPending;
        this.reset();
        if (pending !== undefined) this.set(pending);
      },
    });
    this.#requests = new Counter({
      name: 'aegis_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#requestDuration = new Histogram({
      name: 'aegis_http_request_duration_seconds',
      help: 'How long HTTP answers took, by method and route template (event streams are not timed).',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.#serviceUp = new Gauge({
      name: 'aegis_service_up',
      help: "1 when the service's latest health check here was healthy, else 0.",
      labelNames: ['service'],
      registers,
    });
  }

  /** The Prometheus text format's media type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text a scrape answers. */
  async exposition(): Promise<string> {
    if (!this.#defaultsRegistered) {
      this.#defaultsRegistered = true;
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters, which `promtool check metrics` flags; `sum(nodejs_active_handles)` says the same.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
    return this.registry.metrics();
  }

  /** Feeds the run metrics; given to `context.observeRuns`, so every run of the process reports here. */
  readonly runObserver: RunObserver = {
    runStarted: (start) => void this.#workflowOfRun.set(start.run_id, start.workflow_name),
    stepFinished: (_index, step, { runId }) => {
      const workflow = this.#workflowOfRun.get(runId);
      if (workflow === undefined || step.skipped || step.reused) return;
      this.#stepDuration.observe({ workflow, step_type: step.step_type }, step.duration_ms / 1000);
      for (const attempt of step.attempts)
        this.#stepAttempts.inc({
          workflow,
          step_type: step.step_type,
          outcome: attempt.success ? 'success' : 'failure',
        });
    },
    runFinished: (result) => {
      this.#workflowOfRun.delete(result.run_id);
      this.#runs.inc({ workflow: result.workflow_name, status: runOutcomeLabel(result) });
      this.#runDuration.observe({ workflow: result.workflow_name }, result.duration_ms / 1000);
    },
  };

  /**
   * Called once per answer by the request envelope, so it stays two label
   * lookups. `route` is the matched template (`/api/runs/{run_id}`) or
   * `unmatched`; `seconds` is null for an event stream, whose
   * length says nothing about the API's latency.
   */
  requestFinished(method: string, route: string, status: number, seconds: number | null): void {
    this.#requests.inc({ method, route, status });
    if (seconds !== null) this.#requestDuration.observe({ method, route }, seconds);
  }

  deliveryAttempted(outcome: AttemptOutcome['kind']): void {
    this.#deliveries.inc({ outcome: DELIVERY_LABELS[outcome] });
  }

  /** The latest health checks, wherever they ran in this process (the API, the dashboard through it). */
  servicesChecked(results: readonly { service: string; healthy: boolean }[]): void {
    for (const result of results)
      this.#serviceUp.set({ service: result.service }, result.healthy ? 1 : 0);
  }

  #readSnapshot(): Promise<DatabaseSnapshot | null> {
    this.#snapshot ??= (async () => {
      try {
        return await readDatabaseSnapshot((await this.#options.stores()).db);
      } catch (error) {
        // The process metrics still answer; the database gauges are left out of this scrape.
        this.#options.logger.warn('metrics: the database gauges could not be read', {
          error: errorMessage(error),
        });
        return null;
      } finally {
        this.#snapshot = undefined;
      }
    })();
    return this.#snapshot;
  }
}

/** Every configured workflow at 0, then the counts the database holds (workflows another host runs included). */
function setByWorkflow(
  gauge: Gauge<'workflow'>,
  workflows: readonly string[],
  counts: ReadonlyMap<string, number> | undefined,
): void {
  gauge.reset();
  if (counts === undefined) return;
  for (const workflow of workflows) gauge.set({ workflow }, 0);
  for (const [workflow, n] of counts) gauge.set({ workflow }, n);
}
