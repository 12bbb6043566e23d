import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import type { Environment } from '../env.ts';
import { errorMessage } from '../errors.ts';
import { redactUrlsIn } from '../redact.ts';
import { cronProblem, timezoneProblem } from '../schedules/cron.ts';
import { interpolate } from './interpolate.ts';
import { type CheckName, type ConfigIssue, formatPath, type PathSegment } from './issues.ts';
import { type AegisConfig, configSchema, EVENT_TYPES, SCOPES, URL_MESSAGE } from './schema.ts';
import { closestKey, schemaAt } from './suggest.ts';

export interface ConfigReport {
  /** The configuration, when there are no errors. */
  config: AegisConfig | null;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export interface AnalyzeOptions {
  /**
   * Also warn about each `api_key_env` that names an unset or empty variable:
   * `config validate` does; a run says it where it matters, in a 401's error.
   */
  checkKeyVariables?: boolean;
}

type Locate = (
  path: readonly PathSegment[],
  options?: { key?: boolean },
) => Pick<ConfigIssue, 'line' | 'column'>;

/**
 * Reads a configuration text through every check of SPEC §1 and reports all
 * errors at once (never throws): YAML syntax, interpolation, schema, step
 * types and conditions, URLs, step services, webhooks.
 */
export function analyzeConfig(
  text: string,
  env: Environment,
  options: AnalyzeOptions = {},
): ConfigReport {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    // `<<: *defaults` shares step settings, as in docker-compose files.
    merge: true,
  });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = doc.warnings.map((warning) => ({
    check: 'yaml',
    path: '',
    message: warning.message,
    ...at(warning.pos[0]),
  }));

  for (const error of doc.errors)
    errors.push({
      check: 'yaml',
      path: '',
      message: yamlMessage(error, doc),
      ...at(error.pos[0]),
    });
  const raw = errors.length === 0 ? toPlain(doc, at, errors) : undefined;
  if (errors.length > 0) return { config: null, errors, warnings };
  warnings.push(...checkEmptyDocument(doc));

  const locate = locator(doc, lineCounter);
  const referenced = new Set<string>();
  const fromEnv: FromEnvironment = new Map();
  const unresolved = new Set<string>();
  const interpolated = resolveTree(raw, [], env, { referenced, fromEnv }, (path, message) => {
    unresolved.add(formatPath(path));
    errors.push({ check: 'variables', path: formatPath(path), message, ...locate(path) });
  });

  // A value whose variable is missing already has its error; checking the half-made value adds only noise.
  const valueErrors: ConfigIssue[] = [];
  const parsed = configSchema.safeParse(interpolated, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') errors.push(...describeUnknownKeys(issue, locate));
      else valueErrors.push(describeSchemaIssue(issue, locate, fromEnv));
    }
  }
  valueErrors.push(...checkAuth(interpolated, locate, unresolved.has('auth.api_key')));
  valueErrors.push(...checkStepServices(interpolated, locate, fromEnv));
  const webhookIssues = checkWebhooks(interpolated, locate, fromEnv);
  valueErrors.push(...webhookIssues.errors);
  warnings.push(...webhookIssues.warnings);
  const triggerIssues = checkSchedulesAndTriggers(interpolated, locate, { referenced, fromEnv });
  valueErrors.push(...triggerIssues.errors);
  warnings.push(...triggerIssues.warnings);
  errors.push(...valueErrors.filter((issue) => !unresolved.has(issue.path)));
  errors.sort(byPosition);

  if (errors.length > 0 || !parsed.success) return { config: null, errors, warnings };
  const config = parsed.data;
  if (options.checkKeyVariables) warnings.push(...checkKeyVariables(config, env, locate));
  if (config.auth.api_key === '' && referenced.has('auth.api_key')) {
    warnings.push({
      check: 'variables',
      path: 'auth.api_key',
      message:
        config.auth.keys.length === 0
          ? 'came out empty from its environment variable: authentication is off'
          : 'came out empty from its environment variable: there is no default key (auth.keys still apply)',
      ...locate(['auth', 'api_key']),
    });
  }
  return { config, errors, warnings };
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function yamlMessage(error: YAMLError, doc: Document): string {
  if (error.code === 'DUPLICATE_KEY') {
    let key: unknown = '';
    visit(doc, {
      Pair(_, pair) {
        if (!isScalar(pair.key) || pair.key.range?.[0] !== error.pos[0]) return undefined;
        key = pair.key.value;
        return visit.BREAK;
      },
    });
    return `duplicate key "${String(key)}" (each key may appear once in a mapping)`;
  }
  if (error.code === 'MULTIPLE_DOCS')
    return 'the file holds more than one YAML document (a second "---"): keep one';
  return error.message;
}

/** The document as plain data; an alias with no anchor (or too many aliases) is a YAML error. */
function toPlain(
  doc: Document,
  at: (offset: number | undefined) => Pick<ConfigIssue, 'line' | 'column'>,
  errors: ConfigIssue[],
): unknown {
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined)
        errors.push({
          check: 'yaml',
          path: '',
          message: `alias "*${alias.source}" has no anchor "&${alias.source}" before it`,
          ...at(alias.range?.[0]),
        });
    },
  });
  if (errors.length > 0) return undefined;
  try {
    return doc.toJS() ?? {};
  } catch (error) {
    errors.push({ check: 'yaml', path: '', message: errorMessage(error) });
    return undefined;
  }
}

/** Key paths whose value holds text from the environment, with the variables it came from. */
type FromEnvironment = Map<string, readonly string[]>;

interface Interpolation {
  /** Paths written with a `${…}` reference (whether or not a variable was set). */
  referenced: Set<string>;
  fromEnv: FromEnvironment;
}

/**
 * Interpolates every string, and drops known keys written without a value
 * (`services:` with every entry commented out), so that they take their default.
 */
function resolveTree(
  value: unknown,
  path: PathSegment[],
  env: Environment,
  trace: Interpolation,
  report: (path: PathSegment[], message: string) => void,
): unknown {
  if (typeof value === 'string') {
    const result = interpolate(value, env);
    for (const message of result.errors) report(path, message);
    if (result.hadReference) trace.referenced.add(formatPath(path));
    if (result.variables.length > 0) trace.fromEnv.set(formatPath(path), result.variables);
    return result.value;
  }
  if (Array.isArray(value))
    return value.map((item, i) => resolveTree(item, [...path, i], env, trace, report));
  if (isRecord(value)) {
    const known = shapeKeys(path);
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, item]) => !(item === null && Object.hasOwn(known, key)))
        .map(([key, item]) => [key, resolveTree(item, [...path, key], env, trace, report)]),
    );
  }
  return value;
}

/** The variables that went into the value at `path` or anything inside it. */
function variablesAt(fromEnv: FromEnvironment, path: string): string[] {
  const variables = new Set<string>();
  for (const [at, names] of fromEnv)
    if (path === '' || at === path || at.startsWith(`${path}.`) || at.startsWith(`${path}[`))
      for (const name of names) variables.add(name);
  return [...variables];
}

/** `"text"` as written, or `the value of $VAR` when the environment supplied it. */
function quoted(fromEnv: FromEnvironment, path: readonly PathSegment[], text: string): string {
  const variables = variablesAt(fromEnv, formatPath(path));
  return variables.length > 0 ? `the value of ${dollars(variables)}` : `"${text}"`;
}

function dollars(variables: readonly string[]): string {
  return variables.map((name) => `$${name}`).join(', ');
}

/** Values never repeated in a message: API keys (and whatever stands where one belongs) and webhook secrets. */
function isSecretPath(path: readonly PathSegment[]): boolean {
  if (path.some((segment) => segment === 'api_key' || segment === 'secret')) return true;
  if (path[0] !== 'auth') return false;
  // `auth: <text>` and `keys: [<text>]` are most likely a key written in the wrong place.
  return path.length === 1 || (path[1] === 'keys' && (path.length <= 3 || path[3] === 'key'));
}

function describeUnknownKeys(
  issue: z.core.$ZodIssueUnrecognizedKeys,
  locate: Locate,
): ConfigIssue[] {
  const path = issuePath(issue);
  const known = Object.keys(shapeKeys(path));
  return issue.keys.map((key) => {
    const suggestion = closestKey(key, known);
    const hint = suggestion
      ? ` (did you mean "${suggestion}"?)`
      : ` (known keys: ${known.join(', ')})`;
    return {
      check: 'schema',
      path: formatPath([...path, key]),
      message: `unknown key${hint}`,
      ...locate([...path, key], { key: true }),
    };
  });
}

function describeSchemaIssue(
  issue: z.core.$ZodIssue,
  locate: Locate,
  fromEnv: FromEnvironment,
): ConfigIssue {
  const path = issuePath(issue);
  const last = path[path.length - 1];
  let check: CheckName = 'schema';
  if (issue.code === 'invalid_value' && (last === 'type' || last === 'condition'))
    check = 'step_types';
  else if (issue.message.includes(URL_MESSAGE) || issue.message.includes('http(s) URL'))
    check = 'urls';
  // A value that came from the environment may be a secret put in the wrong place: name its variables, never the value.
  const variables = variablesAt(fromEnv, formatPath(path));
  const got =
    variables.length > 0
      ? ` (got the value of ${dollars(variables)})`
      : issue.input === undefined || isSecretPath(path)
        ? ''
        : ` (got ${preview(issue.input)})`;
  return { check, path: formatPath(path), message: `${issue.message}${got}`, ...locate(path) };
}

function issuePath(issue: z.core.$ZodIssue): PathSegment[] {
  return issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
}

function preview(value: unknown): string {
  const text = redactUrlsIn(JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function shapeKeys(path: readonly PathSegment[]): Record<string, unknown> {
  const schema = schemaAt(configSchema, path);
  return schema && 'shape' in schema && typeof schema.shape === 'object' && schema.shape !== null
    ? (schema.shape as Record<string, unknown>)
    : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * SPEC §15 across `auth`: each key's name and value are its own (`auth.api_key`
 * is the key named `default`), and `protect_reads` needs a key that can read.
 * Messages name the other entry by its path, never by its key.
 */
function checkAuth(raw: unknown, locate: Locate, apiKeyUnresolved: boolean): ConfigIssue[] {
  if (!isRecord(raw) || !isRecord(raw.auth)) return [];
  const { api_key: apiKey, keys, protect_reads: protectReads } = raw.auth;
  const issues: ConfigIssue[] = [];
  const issue = (path: PathSegment[], message: string) =>
    issues.push({ check: 'auth', path: formatPath(path), message, ...locate(path) });
  const names = new Map<string, string>();
  const values = new Map<string, string>();
  let canRead = false;
  // An api_key whose variable is missing has its own error: it still counts as a key, or its absence adds noise.
  if (apiKeyUnresolved || (typeof apiKey === 'string' && apiKey !== '')) {
    names.set('default', 'auth.api_key');
    if (!apiKeyUnresolved && typeof apiKey === 'string') values.set(apiKey, 'auth.api_key');
    canRead = true;
  }
  (Array.isArray(keys) ? keys : []).forEach((entry: unknown, index) => {
    if (!isRecord(entry)) return;
    const path: PathSegment[] = ['auth', 'keys', index];
    if (typeof entry.name === 'string' && entry.name !== '') {
      const first = names.get(entry.name);
      if (first === 'auth.api_key')
        issue([...path, 'name'], `"default" is the name of auth.api_key: choose another name`);
      else if (first !== undefined)
        issue([...path, 'name'], `the same name as ${first}: each key needs its own name`);
      else names.set(entry.name, formatPath(path));
    }
    if (typeof entry.key === 'string' && entry.key !== '') {
      const first = values.get(entry.key);
      if (first !== undefined)
        issue([...path, 'key'], `the same key as ${first}: each key must be different`);
      else values.set(entry.key, formatPath(path));
    }
    if (Array.isArray(entry.scopes) && entry.scopes.includes('read')) canRead = true;
  });
  const protect =
    protectReads === true ||
    (typeof protectReads === 'string' && protectReads.trim().toLowerCase() === 'true');
  if (protect && !canRead)
    issue(
      ['auth', 'protect_reads'],
      `is true but no key holds the read scope, so every read would be refused: set auth.api_key or add "read" to a key's scopes (${SCOPES.join(', ')})`,
    );
  return issues;
}

function checkStepServices(raw: unknown, locate: Locate, fromEnv: FromEnvironment): ConfigIssue[] {
  if (!isRecord(raw) || !isRecord(raw.workflows)) return [];
  const services = isRecord(raw.services) ? Object.keys(raw.services) : [];
  const issues: ConfigIssue[] = [];
  for (const [workflowKey, workflow] of Object.entries(raw.workflows)) {
    if (!isRecord(workflow) || !Array.isArray(workflow.steps)) continue;
    workflow.steps.forEach((step: unknown, index) => {
      if (!isRecord(step) || typeof step.service !== 'string' || services.includes(step.service))
        return;
      const path = ['workflows', workflowKey, 'steps', index, 'service'];
      const known =
        services.length > 0 ? `known: ${services.join(', ')}` : 'no services are configured';
      issues.push({
        check: 'services',
        path: formatPath(path),
        message: `unknown service ${quoted(fromEnv, path, step.service)} (${known})`,
        ...locate(path),
      });
    });
  }
  return issues;
}

function checkWebhooks(
  raw: unknown,
  locate: Locate,
  fromEnv: FromEnvironment,
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.webhooks)) return { errors, warnings };
  const firstIndexOfUrl = new Map<string, number>();
  raw.webhooks.forEach((hook: unknown, index) => {
    if (!isRecord(hook)) return;
    if (typeof hook.url === 'string') {
      const first = firstIndexOfUrl.get(hook.url);
      if (first === undefined) firstIndexOfUrl.set(hook.url, index);
      else {
        const path = ['webhooks', index, 'url'];
        errors.push({
          check: 'webhooks',
          path: formatPath(path),
          message: `same URL as webhooks[${first}]: list all its events in one entry`,
          ...locate(path),
        });
      }
    }
    if (!Array.isArray(hook.events)) return;
    hook.events.forEach((event: unknown, eventIndex) => {
      if (
        typeof event !== 'string' ||
        event === '*' ||
        (EVENT_TYPES as readonly string[]).includes(event)
      )
        return;
      const path = ['webhooks', index, 'events', eventIndex];
      warnings.push({
        check: 'webhooks',
        path: formatPath(path),
        message: `${quoted(fromEnv, path, event)} is not an event type, so nothing will match it (known: ${EVENT_TYPES.join(', ')}, *)`,
        ...locate(path),
      });
    });
  });
  return { errors, warnings };
}

/** A trigger's name is the last segment of its URL, so it takes the characters a path segment keeps as they are. */
const TRIGGER_NAME = /^[A-Za-z0-9._~-]+$/;

/**
 * SPEC §12: every schedule expression parses (croner) and its time zone
 * exists; every trigger names a workflow, has a secret, and lists events and
 * branches that can match. Secrets are never repeated in a message.
 */
function checkSchedulesAndTriggers(
  raw: unknown,
  locate: Locate,
  { referenced, fromEnv }: Interpolation,
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const issue = (into: ConfigIssue[], path: PathSegment[], message: string, key = false) =>
    into.push({ check: 'triggers', path: formatPath(path), message, ...locate(path, { key }) });
  const workflows = isRecord(raw) && isRecord(raw.workflows) ? raw.workflows : {};
  for (const [key, workflow] of Object.entries(workflows)) {
    if (!isRecord(workflow)) continue;
    const path = ['workflows', key];
    const schedule = Array.isArray(workflow.schedule) ? workflow.schedule : [];
    schedule.forEach((expression: unknown, index) => {
      const at = [...path, 'schedule', index];
      const problem =
        typeof expression === 'string'
          ? cronProblem(expression, quoted(fromEnv, at, expression))
          : null;
      if (problem) issue(errors, at, problem);
    });
    const zone = workflow.timezone;
    const at = [...path, 'timezone'];
    const problem =
      typeof zone === 'string' ? timezoneProblem(zone, quoted(fromEnv, at, zone)) : null;
    if (problem) issue(errors, at, problem);
    if (workflow.catch_up === true && schedule.length === 0)
      issue(warnings, [...path, 'catch_up'], 'has no effect: the workflow has no schedule');
  }
  const triggers = isRecord(raw) && isRecord(raw.triggers) ? raw.triggers : {};
  const known = Object.keys(workflows);
  for (const [name, trigger] of Object.entries(triggers)) {
    const path: PathSegment[] = ['triggers', name];
    if (!TRIGGER_NAME.test(name))
      issue(
        errors,
        path,
        `"${name}" cannot be the last segment of POST /api/triggers/<name>: use letters, digits, ".", "_", "-" or "~"`,
        true,
      );
    if (!isRecord(trigger)) continue;
    if (typeof trigger.workflow === 'string' && !known.includes(trigger.workflow))
      issue(
        errors,
        [...path, 'workflow'],
        `unknown workflow ${quoted(fromEnv, [...path, 'workflow'], trigger.workflow)} (${known.length > 0 ? `known: ${known.join(', ')}` : 'no workflows are configured'})`,
      );
    if (trigger.secret === '') {
      const fromVariable = referenced.has(formatPath([...path, 'secret']));
      issue(
        errors,
        [...path, 'secret'],
        `must not be empty${fromVariable ? ' (it came out empty from its environment variable)' : ''}: the signature keyed with it is what authenticates the trigger's requests`,
      );
    }
    if (typeof trigger.secret === 'string' && trigger.secret !== '' && trigger.secret.length < 16)
      issue(
        warnings,
        [...path, 'secret'],
        'is shorter than 16 characters: anyone who guesses it can start this workflow (use a long random value, e.g. `openssl rand -hex 32`)',
      );
    if (trigger.secret === EXAMPLE_TRIGGER_SECRET)
      issue(
        warnings,
        [...path, 'secret'],
        "is .aegis.yaml.example's placeholder: anyone who read the example can sign requests with it (set a secret of your own)",
      );
    for (const list of ['events', 'branches'] as const)
      if (Array.isArray(trigger[list]) && trigger[list].length === 0)
        issue(
          errors,
          [...path, list],
          `must list at least one, or be left out (${list === 'events' ? 'github: push; standard: every type' : 'every branch'})`,
        );
    if (trigger.source === 'standard' && trigger.branches !== undefined)
      issue(
        warnings,
        [...path, 'branches'],
        'applies to GitHub push events only: a standard trigger ignores it',
      );
  }
  return { errors, warnings };
}

/** The secret `.aegis.yaml.example` falls back to, so that the example validates as written. */
const EXAMPLE_TRIGGER_SECRET = 'replace-me-with-a-long-random-secret';

/** A file with nothing but comments and blank lines is valid, but almost never what was meant. */
function checkEmptyDocument(doc: Document): ConfigIssue[] {
  const contents = doc.contents;
  if (contents !== null && !(isScalar(contents) && contents.value === null)) return [];
  return [
    {
      check: 'yaml',
      path: '',
      message:
        'the file is empty (nothing but comments or blank lines): Aegis runs on the built-in defaults, with no services, workflows or webhooks',
    },
  ];
}

/** An `api_key_env` whose variable is unset or empty sends no X-API-Key: a service that wants one answers 401. */
function checkKeyVariables(config: AegisConfig, env: Environment, locate: Locate): ConfigIssue[] {
  return Object.entries(config.services).flatMap(([key, service]) => {
    const name = service.api_key_env;
    if (!name || (env[name] ?? '') !== '') return [];
    const path = ['services', key, 'api_key_env'];
    return [
      {
        check: 'variables',
        path: formatPath(path),
        message: `${name} is ${env[name] === undefined ? 'not set' : 'empty'}: requests to ${key} carry no X-API-Key`,
        ...locate(path),
      },
    ];
  });
}

/** Maps a key path to the line and column of its node (or of its key, or of the nearest parent that exists). */
function locator(doc: Document, lineCounter: LineCounter): Locate {
  return (path, options = {}) => {
    let node: unknown = doc.contents;
    let offset = (doc.contents as Node | null)?.range?.[0];
    for (const [i, segment] of path.entries()) {
      const isLast = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (!pair) break;
        const keyNode = pair.key as Node;
        offset =
          isLast && options.key
            ? keyNode.range?.[0]
            : ((pair.value as Node | null)?.range?.[0] ?? keyNode.range?.[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0];
        node = item;
      } else break;
    }
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
}
