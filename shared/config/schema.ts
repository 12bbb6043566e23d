import { z } from 'zod';

export const STEP_TYPES = ['discover', 'test', 'submit_bugs', 'verify', 'report'] as const;
export const CONDITIONS = ['has_failures', 'on_success', 'on_failure', 'always'] as const;
export const EVENT_TYPES = [
  'workflow.started',
  'step.completed',
  'failure.detected',
  'workflow.completed',
  'workflow.cancelled',
] as const;
export const ON_CONFLICT = ['queue', 'cancel_running', 'reject'] as const;
export const ON_INTERRUPT = ['none', 'requeue'] as const;
export const TRIGGER_SOURCES = ['github', 'standard'] as const;

export type StepType = (typeof STEP_TYPES)[number];
export type Condition = (typeof CONDITIONS)[number];
export type EventType = (typeof EVENT_TYPES)[number];
export type OnConflict = (typeof ON_CONFLICT)[number];
export type OnInterrupt = (typeof ON_INTERRUPT)[number];
export type TriggerSource = (typeof TRIGGER_SOURCES)[number];

export const URL_MESSAGE = 'must be an http(s) URL with a host';

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Interpolated values arrive as strings; where a number or boolean is wanted, convert them. */
function fromString<T extends z.ZodType>(kind: 'number' | 'boolean', schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (kind === 'number') return DECIMAL.test(text) ? Number(text) : value;
    const lower = text.toLowerCase();
    return lower === 'true' ? true : lower === 'false' ? false : value;
  }, schema);
}

const integer = (min: number, max?: number) => {
  let schema = z
    .number({
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be an integer'),
    })
    .int('must be an integer')
    .min(min, `must be ≥ ${min}`);
  if (max !== undefined) schema = schema.max(max, `must be ≤ ${max}`);
  return fromString('number', schema);
};
const seconds = (options: { positive: boolean }) =>
  fromString(
    'number',
    options.positive
      ? z.number({ error: 'must be a number of seconds' }).positive('must be > 0')
      : z.number({ error: 'must be a number of seconds' }).min(0, 'must be ≥ 0'),
  );
const flag = fromString('boolean', z.boolean({ error: 'must be true or false' }));
const text = z.string({
  error: (issue) => {
    if (issue.input === undefined) return 'is required';
    // YAML reads `version: 1.0` as a number: say how to keep it text.
    const scalar = typeof issue.input === 'number' || typeof issue.input === 'boolean';
    return scalar ? 'must be a string (put it in quotes)' : 'must be a string';
  },
});
const httpUrl = text.refine(isHttpUrl, URL_MESSAGE);
const optionalHttpUrl = text.refine(
  (v) => v === '' || isHttpUrl(v),
  `must be "" or an http(s) URL with a host`,
);
/** The message for a list or scalar where a mapping belongs; other issues keep their own. */
const mapping = (message: string) => ({
  error: (issue: { code?: string }) => (issue.code === 'invalid_type' ? message : undefined),
});
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) =>
      issue.input === undefined
        ? `is required (one of ${values.join(', ')})`
        : `must be one of ${values.join(', ')}`,
  });

export const stepSchema = z.strictObject(
  {
    type: oneOf(STEP_TYPES),
    service: text,
    condition: oneOf(CONDITIONS).optional(),
    parallel: flag.default(false),
    retries: integer(0, 10).default(0),
    retry_delay: seconds({ positive: false }).default(1.0),
    timeout: seconds({ positive: true }).default(30.0),
    /** submit_bugs: skip failures an earlier run of the workflow already submitted (SPEC §14). */
    dedupe: flag.default(false),
    dedupe_days: integer(1, 3650).default(7),
  },
  mapping('must be a mapping of step keys (type, service, …)'),
);

export const concurrencySchema = z.strictObject(
  {
    limit: integer(1),
    on_conflict: oneOf(ON_CONFLICT).default('queue'),
  },
  mapping('must be a mapping of limit and on_conflict'),
);

export const workflowSchema = z.strictObject(
  {
    name: text,
    steps: z.array(stepSchema, { error: 'must be a list of steps' }).default([]),
    /** At most `limit` runs at once; what a run beyond it does (SPEC §11). No limit when absent. */
    concurrency: concurrencySchema.optional(),
    /** Seconds a run may wait queued before it is cancelled (`queue timeout`). */
    queue_timeout: seconds({ positive: false }).optional(),
    /** `requeue`: an interrupted run gets one rerun from the interrupted step. */
    on_interrupt: oneOf(ON_INTERRUPT).default('none'),
    /** Cron expressions (SPEC §12), evaluated in `timezone`. */
    schedule: z.array(text, { error: 'must be a list of cron expressions' }).default([]),
    timezone: text.default('UTC'),
    catch_up: flag.default(false),
  },
  mapping('must be a mapping of workflow keys (name, steps, concurrency, schedule, …)'),
);

export const serviceSchema = z.strictObject(
  {
    name: text,
    url: httpUrl,
    description: text.default(''),
    health_endpoint: text.default('/health'),
    api_key_env: text.optional(),
    features: z.array(text, { error: 'must be a list of strings' }).default([]),
    repo_url: optionalHttpUrl.default(''),
    docs_url: optionalHttpUrl.default(''),
  },
  mapping('must be a mapping of service keys (name, url, …)'),
);

const nonEmptyText = text.min(1, 'must not be empty');

/** One secret, or a list of them, newest first, while receivers move to the new one (SPEC §15). */
const webhookSecret = z.union(
  [
    text,
    z
      .array(nonEmptyText, { error: 'must be a list of strings' })
      .min(1, 'must list at least one secret (or be "" for unsigned deliveries)'),
  ],
  { error: 'must be a string or a list of strings (newest first)' },
);

export const webhookSchema = z.strictObject(
  {
    url: httpUrl,
    events: z
      .array(text, { error: 'must be a list of event types' })
      .default(['workflow.completed']),
    secret: webhookSecret.default(''),
  },
  mapping('must be a mapping of webhook keys (url, events, secret)'),
);

export const triggerSchema = z.strictObject(
  {
    workflow: text,
    secret: text,
    source: oneOf(TRIGGER_SOURCES),
    /** GitHub: `X-GitHub-Event` values (default push); standard: the body's `type` (default any). */
    events: z.array(text, { error: 'must be a list of event names' }).optional(),
    /** Push events: the branches of `ref` that start a run (default any). */
    branches: z.array(text, { error: 'must be a list of branch names' }).optional(),
  },
  mapping('must be a mapping of trigger keys (workflow, secret, source, events, branches)'),
);

/** SPEC §15: `read` (every GET), `run` (start, cancel, rerun), `admin` (redeliver and the rest). */
export const SCOPES = ['read', 'run', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const apiKeySchema = z.strictObject(
  {
    name: nonEmptyText,
    key: nonEmptyText,
    scopes: z
      .array(oneOf(SCOPES), { error: `must be a list of scopes (${SCOPES.join(', ')})` })
      .min(1, `must list at least one scope (${SCOPES.join(', ')})`),
  },
  mapping('must be a mapping of key fields (name, key, scopes)'),
);

const mapOf = <T extends z.ZodType>(schema: T) =>
  z.record(z.string(), schema, { error: 'must be a mapping of keys to entries' }).default({});

export const configSchema = z.strictObject(
  {
    aegis: z
      .strictObject(
        { name: text.default('Aegis'), version: text.default('0.1.0') },
        mapping('must be a mapping of name and version'),
      )
      .default({ name: 'Aegis', version: '0.1.0' }),
    llm: z
      .strictObject(
        {
          ollama_base_url: httpUrl.default('http://localhost:11434'),
          default_model: text.default('qwen2.5-coder:7b'),
          timeout: seconds({ positive: true }).default(120),
        },
        mapping('must be a mapping of ollama_base_url, default_model and timeout'),
      )
      .default({
        ollama_base_url: 'http://localhost:11434',
        default_model: 'qwen2.5-coder:7b',
        timeout: 120,
      }),
    auth: z
      .strictObject(
        {
          api_key: text.default(''),
          keys: z.array(apiKeySchema, { error: 'must be a list of keys' }).default([]),
          protect_reads: flag.default(false),
        },
        mapping('must be a mapping of api_key, keys and protect_reads'),
      )
      .default({ api_key: '', keys: [], protect_reads: false }),
    history_db_path: text.default('aegis_history.db'),
    history_max_records: integer(0).default(0),
    event_log_size: integer(1).default(100),
    webhooks: z.array(webhookSchema, { error: 'must be a list of webhooks' }).default([]),
    services: mapOf(serviceSchema),
    workflows: mapOf(workflowSchema),
    triggers: mapOf(triggerSchema),
  },
  mapping('the configuration must be a mapping of keys such as services and workflows'),
);

export type AegisConfig = z.infer<typeof configSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type WorkflowConfig = z.infer<typeof workflowSchema>;
export type StepConfig = z.infer<typeof stepSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type TriggerConfig = z.infer<typeof triggerSchema>;
export type ConcurrencyConfig = z.infer<typeof concurrencySchema>;
export type ApiKeyConfig = z.infer<typeof apiKeySchema>;
export type AuthConfig = AegisConfig['auth'];

/** The configuration used when no file is found: no services, no workflows. */
export function defaultConfig(): AegisConfig {
  return configSchema.parse({});
}
