import { describe, expect, it } from 'vitest';
import {
  completePart,
  expectedRange,
  type IntervalModel,
  type IntervalSettings,
  intervalSettingsOf,
  missingRanges,
  nextBatches,
} from '../../../src/core/intervals/model-intervals.js';
import { subtractRanges, type TimeRange } from '../../../src/core/intervals/range-set.js';
import type { ModelKind } from '../../../src/core/model.js';

const at = (iso: string): number => Date.parse(iso);

/** A range written as two ISO instants. */
const range = (startIso: string, endIso: string): TimeRange => [at(startIso), at(endIso)];

/** A range as two ISO instants, for readable failures. */
const show = (value: TimeRange | undefined): [string, string] | undefined =>
  value === undefined
    ? undefined
    : [new Date(value[0]).toISOString(), new Date(value[1]).toISOString()];

function incremental(batchSize?: number, lookback = 0): ModelKind {
  return {
    name: 'INCREMENTAL_BY_TIME_RANGE',
    timeColumn: 'ds',
    timeColumnFormat: undefined,
    batchSize,
    lookback,
    isForwardOnly: false,
  };
}

function settingsOf(overrides: Partial<IntervalModel>, nowIso: string): IntervalSettings {
  const model: IntervalModel = {
    name: 'shop.orders',
    kind: incremental(),
    cron: '@daily',
    cronTimeZone: undefined,
    intervalUnit: undefined,
    start: '2024-01-01',
    end: undefined,
    allowsPartials: false,
    ...overrides,
  };
  return intervalSettingsOf(model, at(nowIso));
}

function expected(overrides: Partial<IntervalModel>, nowIso: string) {
  return show(expectedRange(settingsOf(overrides, nowIso), at(nowIso)));
}

describe('expected intervals', () => {
  it('run from the start to the last whole unit before the latest cron tick', () => {
    expect(expected({}, '2024-01-10T15:00:00Z')).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-10T00:00:00.000Z',
    ]);
  });

  it('follow the cron, not the clock: a daily cron with hourly units waits for its tick', () => {
    const hourly = { intervalUnit: 'hour' } as const;

    expect(expected(hourly, '2024-01-10T15:20:00Z')?.[1]).toBe('2024-01-10T00:00:00.000Z');
    expect(expected({ ...hourly, cron: '@hourly' }, '2024-01-10T15:20:00Z')?.[1]).toBe(
      '2024-01-10T15:00:00.000Z',
    );
    expect(expected({ intervalUnit: 'day', cron: '@hourly' }, '2024-01-10T15:20:00Z')?.[1]).toBe(
      '2024-01-10T00:00:00.000Z',
    );
  });

  it('start at the unit that contains start and stop at the unit that contains end', () => {
    const model = { start: '2024-01-01 13:00', end: '2024-01-05 12:00' };

    expect(expected(model, '2024-02-01T00:00:00Z')).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-06T00:00:00.000Z',
    ]);
    expect(expected({ end: '2024-01-05' }, '2024-02-01T00:00:00Z')?.[1]).toBe(
      '2024-01-06T00:00:00.000Z',
    );
    expect(expected({ start: '2024-03-01' }, '2024-02-01T00:00:00Z')).toBeUndefined();
  });

  it('cover only the latest complete interval of a model without start', () => {
    expect(expected({ start: undefined }, '2024-01-10T15:00:00Z')).toEqual([
      '2024-01-09T00:00:00.000Z',
      '2024-01-10T00:00:00.000Z',
    ]);
    expect(expected({ start: undefined, cron: '@monthly' }, '2024-03-10T00:00:00Z')).toEqual([
      '2024-02-01T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
  });

  it('reach the end of the unit that contains now with allow_partials', () => {
    expect(expected({ allowsPartials: true }, '2024-01-10T15:00:00Z')).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-11T00:00:00.000Z',
    ]);
    expect(expected({ allowsPartials: true, end: '2024-01-05' }, '2024-01-10T15:00:00Z')?.[1]).toBe(
      '2024-01-06T00:00:00.000Z',
    );
  });

  it('move at local midnight for a daily cron in Kolkata (18:30 UTC)', () => {
    const kolkata = { cronTimeZone: 'Asia/Kolkata' };

    expect(expected(kolkata, '2024-03-09T18:29:00Z')?.[1]).toBe('2024-03-08T00:00:00.000Z');
    expect(expected(kolkata, '2024-03-09T18:30:00Z')?.[1]).toBe('2024-03-09T00:00:00.000Z');
  });

  it("move with '0 2 * * *' in Berlin across spring forward, in hours", () => {
    const berlin = {
      cron: '0 2 * * *',
      cronTimeZone: 'Europe/Berlin',
      intervalUnit: 'hour' as const,
    };

    expect(expected(berlin, '2024-03-31T00:59:00Z')?.[1]).toBe('2024-03-30T01:00:00.000Z');
    expect(expected(berlin, '2024-03-31T01:00:00Z')?.[1]).toBe('2024-03-31T01:00:00.000Z');
    expect(expected(berlin, '2024-04-01T00:00:00Z')?.[1]).toBe('2024-04-01T00:00:00.000Z');
  });

  it('do not move again when 02:00 repeats in Berlin at fall back', () => {
    const berlin = {
      cron: '0 2 * * *',
      cronTimeZone: 'Europe/Berlin',
      intervalUnit: 'hour' as const,
    };

    expect(expected(berlin, '2024-10-27T00:00:00Z')?.[1]).toBe('2024-10-27T00:00:00.000Z');
    expect(expected(berlin, '2024-10-27T01:30:00Z')?.[1]).toBe('2024-10-27T00:00:00.000Z');
    expect(expected(berlin, '2024-10-28T01:00:00Z')?.[1]).toBe('2024-10-28T01:00:00.000Z');
  });

  it('keep whole UTC days for a Berlin daily cron whatever the offset', () => {
    const berlin = { cron: '0 2 * * *', cronTimeZone: 'Europe/Berlin' };

    expect(expected(berlin, '2024-03-31T00:59:00Z')?.[1]).toBe('2024-03-30T00:00:00.000Z');
    expect(expected(berlin, '2024-03-31T01:00:00Z')?.[1]).toBe('2024-03-31T00:00:00.000Z');
    expect(expected(berlin, '2024-10-27T00:00:00Z')?.[1]).toBe('2024-10-27T00:00:00.000Z');
  });

  it('move at 01:30 local in New York, 05:30 or 06:30 UTC by the season', () => {
    const newYork = {
      cron: '30 1 * * *',
      cronTimeZone: 'America/New_York',
      intervalUnit: 'half_hour' as const,
    };

    expect(expected(newYork, '2024-11-03T06:00:00Z')?.[1]).toBe('2024-11-03T05:30:00.000Z');
    expect(expected(newYork, '2024-11-03T06:30:00Z')?.[1]).toBe('2024-11-03T05:30:00.000Z');
    expect(expected(newYork, '2024-11-04T06:30:00Z')?.[1]).toBe('2024-11-04T06:30:00.000Z');
  });
});

describe('missing intervals', () => {
  const nowIso = '2024-01-20T01:00:00Z';
  const processed: TimeRange[] = [
    range('2024-01-01T00:00:00Z', '2024-01-05T00:00:00Z'),
    range('2024-01-07T00:00:00Z', '2024-01-15T00:00:00Z'),
  ];

  it('are the expected range minus what was processed', () => {
    const settings = settingsOf({}, nowIso);

    expect(missingRanges(settings, processed, at(nowIso)).map(show)).toEqual([
      ['2024-01-05T00:00:00.000Z', '2024-01-07T00:00:00.000Z'],
      ['2024-01-15T00:00:00.000Z', '2024-01-20T00:00:00.000Z'],
    ]);
    expect(
      missingRanges(settings, [range('2023-01-01T00:00:00Z', '2025-01-01T00:00:00Z')], at(nowIso)),
    ).toEqual([]);
  });

  it('reach back lookback units before each gap, never before the start, merging overlaps', () => {
    const settings = settingsOf({ kind: incremental(undefined, 3) }, nowIso);
    const early: TimeRange[] = [range('2024-01-02T00:00:00Z', '2024-01-05T00:00:00Z')];

    expect(missingRanges(settings, processed, at(nowIso)).map(show)).toEqual([
      ['2024-01-02T00:00:00.000Z', '2024-01-07T00:00:00.000Z'],
      ['2024-01-12T00:00:00.000Z', '2024-01-20T00:00:00.000Z'],
    ]);
    expect(show(missingRanges(settings, early, at(nowIso))[0])).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-20T00:00:00.000Z',
    ]);
  });

  it('redo a whole unit that was processed only in part', () => {
    const settings = settingsOf({}, nowIso);
    const partly: TimeRange[] = [range('2024-01-01T00:00:00Z', '2024-01-19T12:00:00Z')];

    expect(missingRanges(settings, partly, at(nowIso)).map(show)).toEqual([
      ['2024-01-19T00:00:00.000Z', '2024-01-20T00:00:00.000Z'],
    ]);
  });

  it('include the incomplete interval with allow_partials, whose complete part alone is recorded', () => {
    const now = at('2024-01-20T15:00:00Z');
    const settings = settingsOf(
      { allowsPartials: true, start: '2024-01-19' },
      '2024-01-20T15:00:00Z',
    );
    const evaluated = range('2024-01-19T00:00:00Z', '2024-01-21T00:00:00Z');

    expect(missingRanges(settings, [], now).map(show)).toEqual([
      ['2024-01-19T00:00:00.000Z', '2024-01-21T00:00:00.000Z'],
    ]);
    expect(show(completePart(settings, evaluated, now))).toEqual([
      '2024-01-19T00:00:00.000Z',
      '2024-01-20T00:00:00.000Z',
    ]);
    expect(
      completePart(settings, range('2024-01-20T00:00:00Z', '2024-01-21T00:00:00Z'), now),
    ).toBeUndefined();
    expect(
      missingRanges(settings, [range('2024-01-19T00:00:00Z', '2024-01-20T00:00:00Z')], now).map(
        show,
      ),
    ).toEqual([['2024-01-20T00:00:00.000Z', '2024-01-21T00:00:00.000Z']]);
  });

  it('ignore batch_size of seeds and lookback of kinds without it', () => {
    const seed: ModelKind = { name: 'SEED', path: '/p/s.csv', declaredPath: 's.csv', batchSize: 5 };

    expect(settingsOf({ kind: seed }, nowIso)).toMatchObject({ batchSize: undefined, lookback: 0 });
    expect(settingsOf({ kind: { name: 'FULL' } }, nowIso)).toMatchObject({ lookback: 0 });
    expect(settingsOf({ kind: incremental(7, 2) }, nowIso)).toMatchObject({
      batchSize: 7,
      lookback: 2,
    });
  });
});

describe('batches', () => {
  const missing: TimeRange[] = [
    range('2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z'),
    range('2024-01-10T00:00:00Z', '2024-01-12T00:00:00Z'),
  ];

  it('hold at most batch_size units and never span a gap', () => {
    const settings = settingsOf({ kind: incremental(3) }, '2024-02-01T00:00:00Z');

    expect(nextBatches(settings, missing, 100).map(show)).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-04T00:00:00.000Z'],
      ['2024-01-04T00:00:00.000Z', '2024-01-07T00:00:00.000Z'],
      ['2024-01-07T00:00:00.000Z', '2024-01-08T00:00:00.000Z'],
      ['2024-01-10T00:00:00.000Z', '2024-01-12T00:00:00.000Z'],
    ]);
  });

  it('come in windows: the next window follows once the first is taken away', () => {
    const settings = settingsOf({ kind: incremental(3) }, '2024-02-01T00:00:00Z');
    const first = nextBatches(settings, missing, 2);
    const second = nextBatches(settings, subtractRanges(missing, first), 2);

    expect(first.map(show)).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-04T00:00:00.000Z'],
      ['2024-01-04T00:00:00.000Z', '2024-01-07T00:00:00.000Z'],
    ]);
    expect(second.map(show)).toEqual([
      ['2024-01-07T00:00:00.000Z', '2024-01-08T00:00:00.000Z'],
      ['2024-01-10T00:00:00.000Z', '2024-01-12T00:00:00.000Z'],
    ]);
    expect(nextBatches(settings, missing, 0)).toEqual([]);
  });

  it('are each whole missing range when batch_size is unset', () => {
    const settings = settingsOf({}, '2024-02-01T00:00:00Z');

    expect(nextBatches(settings, missing, 10)).toEqual(missing);
  });

  it('follow calendar months across a leap February and a year end', () => {
    const settings = settingsOf({ cron: '@monthly', kind: incremental(2) }, '2025-06-01T00:00:00Z');
    const months = [range('2023-12-01T00:00:00Z', '2024-05-01T00:00:00Z')];

    expect(nextBatches(settings, months, 10).map(show)).toEqual([
      ['2023-12-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
      ['2024-02-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
      ['2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
    ]);
  });

  it('plan a five-minute model that starts in 2000 window by window', () => {
    const now = at('2026-03-15T10:32:00Z');
    const settings = settingsOf(
      { cron: '*/5 * * * *', start: '2000-01-01', kind: incremental(12) },
      '2026-03-15T10:32:00Z',
    );
    const processed = [range('2000-01-01T00:00:00Z', '2026-03-15T09:00:00Z')];

    const gaps = missingRanges(settings, processed, now);
    const window = nextBatches(settings, gaps, 3);

    expect(settings.unit).toBe('five_minute');
    expect(gaps.map(show)).toEqual([['2026-03-15T09:00:00.000Z', '2026-03-15T10:30:00.000Z']]);
    expect(window.map(show)).toEqual([
      ['2026-03-15T09:00:00.000Z', '2026-03-15T10:00:00.000Z'],
      ['2026-03-15T10:00:00.000Z', '2026-03-15T10:30:00.000Z'],
    ]);
  });
});

describe('bad interval settings', () => {
  it('name the model for a bad cron, a cron finer than five minutes and a start after the end', () => {
    expect(() => settingsOf({ cron: '0 0 * * * *' }, '2024-01-10T00:00:00Z')).toThrow(
      /^Model 'shop\.orders' has cron '0 0 \* \* \* \*' with six fields/,
    );
    expect(() => settingsOf({ cron: '*/2 * * * *' }, '2024-01-10T00:00:00Z')).toThrow(
      /^Model 'shop\.orders' has cron '\*\/2 \* \* \* \*', which runs more often than every five minutes/,
    );
    expect(() =>
      settingsOf({ start: '2024-02-01', end: '2024-01-01' }, '2024-01-10T00:00:00Z'),
    ).toThrow(
      /^Model 'shop\.orders' has start '2024-02-01', which is not before its end '2024-01-01'/,
    );
    expect(() => settingsOf({ cronTimeZone: 'Mars/Olympus' }, '2024-01-10T00:00:00Z')).toThrow(
      /^Model 'shop\.orders' has cron_tz 'Mars\/Olympus'/,
    );
  });

  it('accept a cron finer than five minutes when interval_unit is set', () => {
    const settings = settingsOf(
      { cron: '* * * * *', intervalUnit: 'five_minute' },
      '2024-01-01T00:07:30Z',
    );

    expect(show(expectedRange(settings, at('2024-01-01T00:07:30Z')))).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-01T00:05:00.000Z',
    ]);
  });
});
