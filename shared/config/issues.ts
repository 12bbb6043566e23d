import { UserFacingError } from '../errors.ts';

/** The checks `aegis config validate` reports, in the order it prints them. */
export const CHECKS = {
  yaml: 'YAML syntax',
  variables: 'environment variables',
  schema: 'keys and value types',
  auth: 'API keys and scopes',
  step_types: 'step types and conditions',
  urls: 'URLs are http(s) with a host',
  services: "every step's service exists",
  webhooks: 'webhooks',
  triggers: 'schedules and triggers',
} as const;

export type CheckName = keyof typeof CHECKS;

export interface ConfigIssue {
  check: CheckName;
  /** Dotted key path (`workflows.full.steps[0].retries`); "" for the whole document. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:column: path: message`, the shape compilers use, so editors can jump to it. */
export function formatIssue(issue: ConfigIssue, source: string | null): string {
  const where = [source ?? '<config>', issue.line, issue.column]
    .filter((part) => part !== undefined)
    .join(':');
  return issue.path === ''
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.path}: ${issue.message}`;
}

/** Thrown by `loadConfig` when the file has errors: every error, one line each. */
export class ConfigError extends UserFacingError {
  readonly issues: readonly ConfigIssue[];
  readonly source: string | null;

  constructor(source: string | null, issues: readonly ConfigIssue[]) {
    const noun = issues.length === 1 ? 'error' : 'errors';
    super(
      [
        `invalid configuration (${issues.length} ${noun}):`,
        ...issues.map((i) => `  ${formatIssue(i, source)}`),
      ].join('\n'),
    );
    this.issues = issues;
    this.source = source;
  }
}
