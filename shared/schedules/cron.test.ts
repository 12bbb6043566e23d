import { describe, expect, it } from 'vitest';
import { cronProblem, parseCron, timezoneProblem } from './cron.ts';
import { WorkflowSchedule } from './workflow-schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('cron expressions (croner)', () => {
  it.each([
    ['0 2 * * 1-5', '2025-01-03T12:00:00Z', '2025-01-06T02:00:00.000Z'], // Friday noon → Monday 02:00
    ['*/15 9-17 * * MON-FRI', '2025-01-06T09:50:00Z', '2025-01-06T10:00:00.000Z'],
    ['0 0 1,15 * *', '2025-01-02T00:00:00Z', '2025-01-15T00:00:00.000Z'],
    ['0 12 * JAN,JUL *', '2025-02-01T00:00:00Z', '2025-07-01T12:00:00.000Z'],
    ['*/2 * * * * *', '2025-01-01T00:00:09.999Z', '2025-01-01T00:00:10.000Z'],
    ['30 * * * * *', '2025-01-01T00:00:30.000Z', '2025-01-01T00:01:30.000Z'],
    ['@hourly', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00.000Z'],
    ['@daily', '2025-01-01T10:00:00Z', '2025-01-02T00:00:00.000Z'],
    ['@weekly', '2025-01-01T10:00:00Z', '2025-01-05T00:00:00.000Z'], // the next Sunday
    ['@HOURLY', '2025-01-01T00:30:00Z', '2025-01-01T01:00:00.000Z'],
  ])('%s after %s is %s', (expression, after, next) => {
    expect(cronProblem(expression)).toBeNull();
    expect(iso(parseCron(expression, 'UTC').next(at(after)))).toBe(next);
  });

  it('gives the latest tick at or before an instant, the instant itself included', () => {
    const cron = parseCron('*/2 * * * * *', 'UTC');
    expect(iso(cron.latest(at('2025-01-01T00:00:10.000Z')))).toBe('2025-01-01T00:00:10.000Z');
    expect(iso(cron.latest(at('2025-01-01T00:00:11.999Z')))).toBe('2025-01-01T00:00:10.000Z');
    expect(iso(cron.next(at('2025-01-01T00:00:10.000Z')))).toBe('2025-01-01T00:00:12.000Z');
  });

  it('reads the expression in its time zone, across both DST changes (Europe/Berlin, 2025)', () => {
    // 30 March: 02:00 local does not exist (clocks go 02:00 → 03:00, UTC+1 → UTC+2).
    const fixed = parseCron('30 2 * * *', 'Europe/Berlin');
    expect(iso(fixed.next(at('2025-03-29T12:00:00Z')))).toBe('2025-03-30T01:00:00.000Z'); // 03:00 local, after the gap
    expect(iso(fixed.next(at('2025-03-30T12:00:00Z')))).toBe('2025-03-31T00:30:00.000Z'); // 02:30 CEST
    const interval = parseCron('*/30 * * * *', 'Europe/Berlin');
    expect(iso(interval.next(at('2025-03-30T00:45:00Z')))).toBe('2025-03-30T01:00:00.000Z'); // 03:00 CEST, no 02:xx
    // 26 October: 02:00–03:00 local happens twice (UTC+2, then UTC+1): a fixed-time job runs once…
    expect(iso(fixed.next(at('2025-10-25T12:00:00Z')))).toBe('2025-10-26T00:30:00.000Z');
    expect(iso(fixed.next(at('2025-10-26T00:30:00Z')))).toBe('2025-10-27T01:30:00.000Z');
    // …an interval job on both passes.
    const halfHours = [at('2025-10-26T00:00:00Z')];
    for (let i = 0; i < 4; i += 1)
      halfHours.push(interval.next(halfHours.at(-1) as number) as number);
    expect(halfHours.slice(1).map(iso)).toEqual([
      '2025-10-26T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T01:00:00.000Z', // 02:00 CET
      '2025-10-26T01:30:00.000Z', // 02:30 CET
      '2025-10-26T02:00:00.000Z', // 03:00 CET
    ]);
  });

  it.each([
    ['', 'invalid cron expression "": it is empty (five fields'],
    ['* * * *', 'invalid cron expression "* * * *": 4 fields (five fields'],
    ['* * * * * * *', 'invalid cron expression "* * * * * * *": 7 fields'],
    ['61 * * * *', 'invalid cron expression "61 * * * *": Invalid value for minute: 61'],
    ['0 25 * * *', 'invalid cron expression "0 25 * * *": Invalid value for hour: 25'],
    ['@reboot', 'invalid cron expression "@reboot": not one of @yearly, @annually'],
    ['@sometimes', 'invalid cron expression "@sometimes": not one of'],
    // croner would take an ISO date as a one-off job: a schedule repeats.
    ['2025-01-01T00:00:00', 'invalid cron expression "2025-01-01T00:00:00": 1 field'],
    ['0 0 31 2 *', 'cron expression "0 0 31 2 *" never matches a date'],
  ])('refuses %j, saying why', (expression, message) => {
    expect(cronProblem(expression)).toContain(message);
    expect(() => parseCron(expression, 'UTC')).toThrow(message);
  });

  it('names a value from the environment as the caller says, not by its text', () => {
    expect(cronProblem('61 * * * *', 'the value of $NIGHTLY')).toBe(
      'invalid cron expression the value of $NIGHTLY: Invalid value for minute: 61',
    );
  });

  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT-2'])(
    'takes the time zone %s',
    (zone) => expect(timezoneProblem(zone)).toBeNull(),
  );

  it.each([
    ['Mars/Olympus', 'unknown time zone "Mars/Olympus": use an IANA name such as UTC'],
    ['+02:00', '"+02:00" is not a time zone: use an IANA name'],
    ['', '"" is not a time zone'],
  ])('refuses the time zone %j', (zone, message) => {
    expect(timezoneProblem(zone)).toContain(message);
    expect(() => parseCron('@daily', zone)).toThrow(message);
  });
});

describe('WorkflowSchedule', () => {
  const schedule = new WorkflowSchedule('nightly', {
    schedule: ['0 2 * * *', '0 */6 * * *', '@daily'],
    timezone: 'UTC',
    catch_up: false,
  });

  it('is the union of its expressions: two that name one instant make one tick (the first listed)', () => {
    expect(schedule.next(at('2025-01-01T01:00:00Z'))).toEqual({
      at: at('2025-01-01T02:00:00Z'),
      cron: '0 2 * * *',
    });
    expect(schedule.next(at('2025-01-01T02:00:00Z'))).toEqual({
      at: at('2025-01-01T06:00:00Z'),
      cron: '0 */6 * * *',
    });
    // Midnight is both `0 */6 * * *` and `@daily`: one tick, named by the first.
    expect(schedule.next(at('2025-01-01T20:00:00Z'))).toEqual({
      at: at('2025-01-02T00:00:00Z'),
      cron: '0 */6 * * *',
    });
  });

  it('is due for the latest tick after `since`, at or before now; earlier ones in the span are skipped', () => {
    expect(schedule.due(at('2025-01-01T01:00:00Z'), at('2025-01-01T01:59:59Z'))).toBeNull();
    expect(schedule.due(at('2025-01-01T01:00:00Z'), at('2025-01-01T02:00:00Z'))?.at).toBe(
      at('2025-01-01T02:00:00Z'),
    );
    // 02:00 and 06:00 both passed since 01:00: only 06:00 is due.
    expect(schedule.due(at('2025-01-01T01:00:00Z'), at('2025-01-01T07:00:00Z'))?.at).toBe(
      at('2025-01-01T06:00:00Z'),
    );
    // Exclusive of `since`: the tick already fired is not due again.
    expect(schedule.due(at('2025-01-01T06:00:00Z'), at('2025-01-01T07:00:00Z'))).toBeNull();
  });
});
