import { Cron } from 'croner';
import { errorMessage } from '../errors.ts';

/**
 * One cron expression of a workflow's `schedule:` (SPEC §12), read in its
 * time zone by croner: five fields, or six with leading seconds; ranges,
 * lists, steps and names; `@hourly`, `@daily`, `@weekly` (and croner's other
 * nicknames). Across a DST change croner runs a fixed-time job (`30 2 * * *`)
 * once, at the first valid time after a gap, and an interval job
 * (`*\/15 * * * *`) on every wall-clock time that exists.
 */
export interface CronSchedule {
  readonly expression: string;
  readonly timezone: string;
  /** The first tick strictly after `afterMs` (whole seconds), or null when there is none. */
  next(afterMs: number): number | null;
  /** The last tick at or before `atMs`, or null when there is none. */
  latest(atMs: number): number | null;
}

/** Five or six fields: a seventh (years) is not standard cron, and is refused. */
const MODE = '5-or-6-parts';

const FORMS =
  'five fields: minute hour day-of-month month day-of-week; six with leading seconds; or @hourly, @daily, @weekly';

/** croner's nicknames, but @reboot (there is no start-up trigger). */
const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

const TIMEZONE_EXAMPLES = 'an IANA name such as UTC, Europe/Berlin or America/New_York';

/**
 * What is wrong with a time zone name, or null when it is one; `shown` is
 * how the message names the value (a value from the environment is named by
 * its variable).
 */
export function timezoneProblem(timezone: string, shown = `"${timezone}"`): string | null {
  // Intl takes "+02:00" on newer Node versions only: an offset is no zone (it has no DST), so refuse it everywhere.
  if (timezone.trim() === '' || /^[+-]\d/.test(timezone))
    return `${shown} is not a time zone: use ${TIMEZONE_EXAMPLES}`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return `unknown time zone ${shown}: use ${TIMEZONE_EXAMPLES}`;
  }
}

/** What is wrong with a cron expression, or null when croner reads it (the zone is checked apart). */
export function cronProblem(expression: string, shown = `"${expression}"`): string | null {
  const fields = expression
    .trim()
    .split(/\s+/)
    .filter((field) => field !== '');
  if (fields.length === 0) return `invalid cron expression ${shown}: it is empty (${FORMS})`;
  const nickname = expression.trim().toLowerCase();
  if (nickname.startsWith('@') && !NICKNAMES.includes(nickname))
    return `invalid cron expression ${shown}: not one of ${NICKNAMES.join(', ')}`;
  if (!nickname.startsWith('@') && fields.length !== 5 && fields.length !== 6)
    return `invalid cron expression ${shown}: ${fields.length} field${fields.length === 1 ? '' : 's'} (${FORMS})`;
  let cron: Cron;
  try {
    cron = new Cron(expression, { mode: MODE });
  } catch (error) {
    const reason = errorMessage(error).replace(/^Cron(Pattern|Date)?: /, '');
    return `invalid cron expression ${shown}: ${reason}`;
  }
  if (cron.nextRun() === null)
    return `cron expression ${shown} never matches a date (such as day 31 of February)`;
  return null;
}

/** A cron expression in a time zone; throws a one-line reason when either is wrong. */
export function parseCron(expression: string, timezone: string): CronSchedule {
  const problem = timezoneProblem(timezone) ?? cronProblem(expression);
  if (problem) throw new Error(problem);
  const cron = new Cron(expression, { mode: MODE, timezone });
  return {
    expression,
    timezone,
    next: (afterMs) => cron.nextRun(new Date(afterMs))?.getTime() ?? null,
    // croner counts a tick within the reference's second as before it: +1 ms makes `atMs` itself count.
    latest: (atMs) => cron.previousRuns(1, new Date(atMs + 1))[0]?.getTime() ?? null,
  };
}
