// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold ${VAR} references on purpose
import { describe, expect, it } from 'vitest';
import { analyzeConfig } from './analyze.ts';
import type { ConfigIssue } from './issues.ts';

/** `line:column path: message`, the parts a user reads. */
function show(issues: readonly ConfigIssue[]): string[] {
  return issues.map((i) => `${i.line ?? '-'}:${i.column ?? '-'} ${i.path}: ${i.message}`);
}

const BASE = `services:
  qaagent: { name: QA Agent, url: "http://localhost:8080" }
workflows:
  nightly:
    name: Nightly
    steps: [{ type: discover, service: qaagent }]
`;

describe('analyzeConfig: schedules and triggers (SPEC §12)', () => {
  it('takes schedules in their time zones and triggers of both sources', () => {
    const report = analyzeConfig(
      `${BASE}    schedule: ["0 2 * * 1-5", "*/30 * * * * *", "@hourly"]
    timezone: Europe/Berlin
    catch_up: true
triggers:
  gh: { workflow: nightly, source: github, secret: "\${GH_SECRET:-dev-secret-of-some-length}", branches: [main] }
  deploys: { workflow: nightly, source: standard, secret: s3cret-long-enough-x, events: [deployment.succeeded] }
`,
      {},
    );
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.config?.workflows.nightly?.schedule).toHaveLength(3);
    expect(report.config?.triggers.deploys).toEqual({
      workflow: 'nightly',
      source: 'standard',
      secret: 's3cret-long-enough-x',
      events: ['deployment.succeeded'],
    });
  });

  it('reports each invalid expression and time zone with its key path, line and column', () => {
    const report = analyzeConfig(
      `${BASE}    schedule: ["0 2 * * *", "61 * * * *", "* * *"]
    timezone: Mars/Olympus
`,
      {},
    );
    expect(report.config).toBeNull();
    expect(show(report.errors)).toEqual([
      '7:29 workflows.nightly.schedule[1]: invalid cron expression "61 * * * *": Invalid value for minute: 61',
      '7:43 workflows.nightly.schedule[2]: invalid cron expression "* * *": 3 fields (five fields: minute hour day-of-month month day-of-week; six with leading seconds; or @hourly, @daily, @weekly)',
      '8:15 workflows.nightly.timezone: unknown time zone "Mars/Olympus": use an IANA name such as UTC, Europe/Berlin or America/New_York',
    ]);
    expect(new Set(report.errors.map((e) => e.check))).toEqual(new Set(['triggers']));
  });

  it('names the variable, not its value, when a bad expression came from the environment', () => {
    const report = analyzeConfig(`${BASE}    schedule: ["\${NIGHTLY_CRON}"]\n`, {
      NIGHTLY_CRON: '99 * * * *',
    });
    expect(show(report.errors)).toEqual([
      '7:16 workflows.nightly.schedule[0]: invalid cron expression the value of $NIGHTLY_CRON: Invalid value for minute: 99',
    ]);
  });

  it('warns that catch_up does nothing without a schedule', () => {
    const report = analyzeConfig(`${BASE}    catch_up: true\n`, {});
    expect(report.errors).toEqual([]);
    expect(show(report.warnings)).toEqual([
      '7:15 workflows.nightly.catch_up: has no effect: the workflow has no schedule',
    ]);
  });

  it('reports a trigger of an unknown workflow, an empty secret, an unknown source, empty lists and a name no URL can hold', () => {
    const report = analyzeConfig(
      `${BASE}triggers:
  gh: { workflow: nightly_build, source: github, secret: "" }
  ci: { workflow: nightly, source: gitlab, secret: x }
  lists: { workflow: nightly, source: github, secret: x, events: [], branches: [] }
  "on push": { workflow: nightly, source: github, secret: x }
  typed: { workflow: nightly, source: github, secret: x, events: push }
`,
      {},
    );
    expect(report.config).toBeNull();
    expect(show(report.errors)).toEqual([
      '8:19 triggers.gh.workflow: unknown workflow "nightly_build" (known: nightly)',
      "8:58 triggers.gh.secret: must not be empty: the signature keyed with it is what authenticates the trigger's requests",
      '9:36 triggers.ci.source: must be one of github, standard (got "gitlab")',
      '10:66 triggers.lists.events: must list at least one, or be left out (github: push; standard: every type)',
      '10:80 triggers.lists.branches: must list at least one, or be left out (every branch)',
      '11:3 triggers["on push"]: "on push" cannot be the last segment of POST /api/triggers/<name>: use letters, digits, ".", "_", "-" or "~"',
      '12:66 triggers.typed.events: must be a list of event names (got "push")',
    ]);
  });

  it('says which variable left a secret empty, and never repeats a secret', () => {
    const report = analyzeConfig(
      `${BASE}triggers:
  gh: { workflow: nightly, source: github, secret: "\${GITHUB_WEBHOOK_SECRET:-}" }
  other: { workflow: missing, source: standard, secret: very-secret-value }
`,
      {},
    );
    expect(show(report.errors)).toEqual([
      "8:52 triggers.gh.secret: must not be empty (it came out empty from its environment variable): the signature keyed with it is what authenticates the trigger's requests",
      '9:22 triggers.other.workflow: unknown workflow "missing" (known: nightly)',
    ]);
    expect(JSON.stringify(report)).not.toContain('very-secret-value');
  });

  it('refuses two triggers with one name (a YAML duplicate key), with its position', () => {
    const report = analyzeConfig(
      `${BASE}triggers:
  gh: { workflow: nightly, source: github, secret: a }
  gh: { workflow: nightly, source: github, secret: b }
`,
      {},
    );
    expect(show(report.errors)).toEqual([
      '9:3 : duplicate key "gh" (each key may appear once in a mapping)',
    ]);
  });

  it('warns that branches mean nothing to a standard trigger', () => {
    const report = analyzeConfig(
      `${BASE}triggers:
  deploys: { workflow: nightly, source: standard, secret: x-secret-long-enough, branches: [main] }
`,
      {},
    );
    expect(report.errors).toEqual([]);
    expect(show(report.warnings)).toEqual([
      '8:91 triggers.deploys.branches: applies to GitHub push events only: a standard trigger ignores it',
    ]);
  });

  it("warns about a short secret, and about the example file's placeholder", () => {
    const report = analyzeConfig(
      `${BASE}triggers:
  short: { workflow: nightly, source: github, secret: abc }
  copied: { workflow: nightly, source: github, secret: replace-me-with-a-long-random-secret }
`,
      {},
    );
    expect(report.errors).toEqual([]);
    expect(show(report.warnings).map((w) => w.replace(/^\d+:\d+ /, ''))).toEqual([
      'triggers.short.secret: is shorter than 16 characters: anyone who guesses it can start this workflow (use a long random value, e.g. `openssl rand -hex 32`)',
      "triggers.copied.secret: is .aegis.yaml.example's placeholder: anyone who read the example can sign requests with it (set a secret of your own)",
    ]);
  });
});
