import { BadRequestError } from '#shared/errors.ts';
import { isObject } from './json-service.ts';

export interface BugReport {
  id: string;
  title: string;
  test: string;
  route: string | null;
  error: string | null;
  severity: 'high' | 'medium';
  status: 'open';
  created_at: string;
}

export interface FilingResult {
  created: number;
  /** Failures already reported earlier: answered with the existing report, not filed twice. */
  duplicates: number;
  reports: BugReport[];
}

/** Kept in memory: the demo resets when it restarts. */
const MAX_REPORTS = 1000;

/** The bug tracker's reports, one per failing test. */
export class BugReportStore {
  readonly #byTest = new Map<string, BugReport>();
  readonly #now: () => Date;
  #nextId = 1;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** Files the failures of a `{failures: [...]}` body; throws BadRequestError naming the bad entry. */
  file(body: Record<string, unknown>): FilingResult {
    const failures = parseFailures(body.failures);
    const fresh = new Set(failures.map((f) => f.test).filter((test) => !this.#byTest.has(test)));
    if (this.#byTest.size + fresh.size > MAX_REPORTS)
      throw new BadRequestError(`the demo bug tracker keeps at most ${MAX_REPORTS} reports`);
    const result: FilingResult = { created: 0, duplicates: 0, reports: [] };
    for (const failure of failures) {
      const existing = this.#byTest.get(failure.test);
      if (existing) {
        result.duplicates += 1;
        result.reports.push(existing);
        continue;
      }
      const report = this.#newReport(failure);
      this.#byTest.set(report.test, report);
      result.created += 1;
      result.reports.push(report);
    }
    return result;
  }

  list(): BugReport[] {
    return [...this.#byTest.values()];
  }

  hasReportFor(test: string): boolean {
    return this.#byTest.has(test);
  }

  #newReport(failure: ParsedFailure): BugReport {
    const id = `BUG-${this.#nextId++}`;
    return {
      id,
      title: failure.route ? `${failure.test} fails on ${failure.route}` : `${failure.test} fails`,
      test: failure.test,
      route: failure.route,
      error: failure.error,
      // Money is at stake on checkout; the rest can wait a little.
      severity: failure.route?.includes('/checkout') ? 'high' : 'medium',
      status: 'open',
      created_at: this.#now().toISOString(),
    };
  }
}

interface ParsedFailure {
  test: string;
  route: string | null;
  error: string | null;
}

function parseFailures(value: unknown): ParsedFailure[] {
  if (!Array.isArray(value)) throw new BadRequestError('"failures" must be a list');
  return value.map((entry, i) => {
    if (!isObject(entry)) throw new BadRequestError(`failures[${i}] must be an object`);
    if (typeof entry.test !== 'string' || entry.test === '')
      throw new BadRequestError(`failures[${i}].test must be a non-empty string`);
    return {
      test: entry.test,
      route: optionalText(entry.route, `failures[${i}].route`),
      error: optionalText(entry.error, `failures[${i}].error`),
    };
  });
}

function optionalText(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new BadRequestError(`${where} must be a string`);
  return value;
}
