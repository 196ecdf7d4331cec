import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import {
  type CronSchedule,
  deriveIntervalUnit,
  parseCronSchedule,
} from '../../../src/core/intervals/cron-schedule.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** The next `count` ticks after an instant, as ISO strings. */
function ticksAfter(
  schedule: CronSchedule,
  fromIso: string,
  count: number,
): (string | undefined)[] {
  const ticks: (string | undefined)[] = [];
  let cursor: number | undefined = at(fromIso);
  for (let index = 0; index < count && cursor !== undefined; index++) {
    cursor = schedule.nextTickAfter(cursor);
    ticks.push(iso(cursor));
  }
  return ticks;
}

function parse(expression: string, timeZone?: string): CronSchedule {
  return parseCronSchedule(expression, timeZone, 'shop.orders');
}

function errorOf(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}

describe('parsing a cron', () => {
  it('reads five-field crons and every alias, in UTC by default', () => {
    const from = '2024-03-01T10:20:00Z';

    expect(ticksAfter(parse('*/5 * * * *'), from, 1)).toEqual(['2024-03-01T10:25:00.000Z']);
    expect(ticksAfter(parse('@hourly'), from, 1)).toEqual(['2024-03-01T11:00:00.000Z']);
    expect(ticksAfter(parse('@daily'), from, 1)).toEqual(['2024-03-02T00:00:00.000Z']);
    expect(ticksAfter(parse('@midnight'), from, 1)).toEqual(['2024-03-02T00:00:00.000Z']);
    expect(ticksAfter(parse('@weekly'), from, 1)).toEqual(['2024-03-03T00:00:00.000Z']);
    expect(ticksAfter(parse('@monthly'), from, 1)).toEqual(['2024-04-01T00:00:00.000Z']);
    expect(ticksAfter(parse('@yearly'), from, 1)).toEqual(['2025-01-01T00:00:00.000Z']);
    expect(ticksAfter(parse('@annually'), from, 1)).toEqual(['2025-01-01T00:00:00.000Z']);
    expect(parse('@daily').timeZone).toBe('UTC');
  });

  it('counts a tick exactly at now as the latest, and looks strictly after for the next', () => {
    const schedule = parse('@daily');

    expect(iso(schedule.latestTickAtOrBefore(at('2024-03-02T00:00:00Z')))).toBe(
      '2024-03-02T00:00:00.000Z',
    );
    expect(iso(schedule.latestTickAtOrBefore(at('2024-03-01T23:59:59.999Z')))).toBe(
      '2024-03-01T00:00:00.000Z',
    );
    expect(iso(schedule.nextTickAfter(at('2024-03-02T00:00:00Z')))).toBe(
      '2024-03-03T00:00:00.000Z',
    );
    expect(iso(schedule.nextTickAfter(at('2024-03-02T00:00:00.500Z')))).toBe(
      '2024-03-03T00:00:00.000Z',
    );
  });

  it('rejects six- and seven-field crons, naming the model', () => {
    expect(errorOf(() => parse('0 */5 * * * *')).message).toBe(
      "Model 'shop.orders' has cron '0 */5 * * * *' with six fields; Sluice reads five-field " +
        "crons, without seconds or years: minute hour day-of-month month day-of-week, such as '0 2 * * *'",
    );
    expect(errorOf(() => parse('0 0 2 * * * 2030')).message).toMatch(/with seven fields/);
  });

  it('rejects a cron it cannot parse, naming the model and the reason', () => {
    const error = errorOf(() => parse('61 * * * *'));

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toBe(
      "Model 'shop.orders' has cron '61 * * * *', which is not a valid cron (invalid value for " +
        'minute: 61); write five fields (minute hour day-of-month month day-of-week) such as ' +
        "'0 2 * * *', or one of @hourly, @daily, @weekly, @monthly, @yearly",
    );
    expect(errorOf(() => parse('every day')).message).toMatch(
      /^Model 'shop\.orders' has cron 'every day', which is not a valid cron/,
    );
  });

  it('rejects aliases it does not know, suggesting the closest', () => {
    expect(errorOf(() => parse('@reboot')).message).toMatch(
      /^Model 'shop\.orders' has cron '@reboot', which is not an alias Sluice knows/,
    );
    expect(errorOf(() => parse('@dialy')).message).toMatch(/Did you mean '@daily'\?$/);
  });

  it('rejects a cron that never fires', () => {
    expect(errorOf(() => parse('0 0 31 2 *')).message).toMatch(
      /^Model 'shop\.orders' has cron '0 0 31 2 \*', which never fires/,
    );
  });

  it('rejects an unknown cron_tz, suggesting the closest zone', () => {
    const error = errorOf(() => parse('@daily', 'Europe/Berln'));

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toBe(
      "Model 'shop.orders' has cron_tz 'Europe/Berln', which is not a known IANA time zone; " +
        "write one such as 'Europe/Berlin' or 'UTC'. Did you mean 'Europe/Berlin'?",
    );
  });
});

describe('deriving the interval unit from a cron', () => {
  it.each([
    ['*/5 * * * *', 'five_minute'],
    ['*/10 * * * *', 'five_minute'],
    ['*/15 * * * *', 'quarter_hour'],
    ['*/20 * * * *', 'quarter_hour'],
    ['*/30 * * * *', 'half_hour'],
    ['@hourly', 'hour'],
    ['15 * * * *', 'hour'],
    ['0 */6 * * *', 'hour'],
    ['@daily', 'day'],
    ['@midnight', 'day'],
    ['0 2 * * *', 'day'],
    ['0 9 * * 1-5', 'day'],
    ['@weekly', 'day'],
    ['@monthly', 'month'],
    ['0 0 1 */3 *', 'month'],
    ['@yearly', 'year'],
    ['@annually', 'year'],
  ])('gives %s the unit %s', (expression, unit) => {
    expect(deriveIntervalUnit(parse(expression), 'shop.orders')).toBe(unit);
  });

  it('measures gaps on the wall clock, so a daily cron stays daily in zones with DST', () => {
    expect(deriveIntervalUnit(parse('0 2 * * *', 'Europe/Berlin'), 'a.b')).toBe('day');
    expect(deriveIntervalUnit(parse('30 1 * * *', 'America/New_York'), 'a.b')).toBe('day');
    expect(deriveIntervalUnit(parse('@hourly', 'Europe/Berlin'), 'a.b')).toBe('hour');
    expect(deriveIntervalUnit(parse('@daily', 'Asia/Kolkata'), 'a.b')).toBe('day');
  });

  it('rejects a cron that runs more often than every five minutes, naming the model', () => {
    const error = errorOf(() => deriveIntervalUnit(parse('* * * * *'), 'shop.orders'));

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toBe(
      "Model 'shop.orders' has cron '* * * * *', which runs more often than every five minutes; " +
        "Sluice's finest interval unit is five minutes: use a cron such as '*/5 * * * *' or set " +
        'interval_unit',
    );
    expect(() => deriveIntervalUnit(parse('0,3 * * * *'), 'a.b')).toThrow(/five minutes/);
  });
});

describe('crons in a time zone with daylight saving time', () => {
  it("fires '0 2 * * *' in Berlin at 03:00 CEST on the day 02:00 does not exist", () => {
    const schedule = parse('0 2 * * *', 'Europe/Berlin');

    expect(ticksAfter(schedule, '2024-03-29T12:00:00Z', 3)).toEqual([
      '2024-03-30T01:00:00.000Z',
      '2024-03-31T01:00:00.000Z',
      '2024-04-01T00:00:00.000Z',
    ]);
  });

  it("fires '0 2 * * *' in Berlin once on the day 02:00 occurs twice, at the first", () => {
    const schedule = parse('0 2 * * *', 'Europe/Berlin');

    expect(ticksAfter(schedule, '2024-10-25T12:00:00Z', 3)).toEqual([
      '2024-10-26T00:00:00.000Z',
      '2024-10-27T00:00:00.000Z',
      '2024-10-28T01:00:00.000Z',
    ]);
    expect(iso(schedule.latestTickAtOrBefore(at('2024-10-27T01:30:00Z')))).toBe(
      '2024-10-27T00:00:00.000Z',
    );
  });

  it("fires '30 1 * * *' in New York once when 01:30 repeats, and as usual in spring", () => {
    const schedule = parse('30 1 * * *', 'America/New_York');

    expect(ticksAfter(schedule, '2024-11-02T00:00:00Z', 3)).toEqual([
      '2024-11-02T05:30:00.000Z',
      '2024-11-03T05:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
    expect(ticksAfter(schedule, '2024-03-09T00:00:00Z', 3)).toEqual([
      '2024-03-09T06:30:00.000Z',
      '2024-03-10T06:30:00.000Z',
      '2024-03-11T05:30:00.000Z',
    ]);
  });

  it("fires '30 2 * * *' in New York at 03:00 EDT, the first instant after the gap", () => {
    expect(ticksAfter(parse('30 2 * * *', 'America/New_York'), '2024-03-09T12:00:00Z', 2)).toEqual([
      '2024-03-10T07:00:00.000Z',
      '2024-03-11T06:30:00.000Z',
    ]);
  });

  it("fires '@daily' in Kolkata at 18:30 UTC, local midnight at +05:30", () => {
    expect(ticksAfter(parse('@daily', 'Asia/Kolkata'), '2024-03-08T12:00:00Z', 2)).toEqual([
      '2024-03-08T18:30:00.000Z',
      '2024-03-09T18:30:00.000Z',
    ]);
  });

  it('fires a wildcard cron on every hour of elapsed time, both of a repeated hour', () => {
    const schedule = parse('0 * * * *', 'Europe/Berlin');

    expect(ticksAfter(schedule, '2024-10-26T23:30:00Z', 3)).toEqual([
      '2024-10-27T00:00:00.000Z',
      '2024-10-27T01:00:00.000Z',
      '2024-10-27T02:00:00.000Z',
    ]);
    expect(ticksAfter(schedule, '2024-03-30T23:30:00Z', 2)).toEqual([
      '2024-03-31T00:00:00.000Z',
      '2024-03-31T01:00:00.000Z',
    ]);
  });

  it('treats a list of hours as local times too, firing the one in the gap after it', () => {
    expect(ticksAfter(parse('0 2,14 * * *', 'Europe/Berlin'), '2024-03-30T23:30:00Z', 2)).toEqual([
      '2024-03-31T01:00:00.000Z',
      '2024-03-31T12:00:00.000Z',
    ]);
  });
});
