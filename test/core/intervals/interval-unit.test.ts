import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addUnits,
  ceilToUnit,
  floorToUnit,
  isUnitBoundary,
  UNITS_FINEST_FIRST,
  unitsBetween,
} from '../../../src/core/intervals/interval-unit.js';
import { INTERVAL_UNITS } from '../../../src/core/model.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('interval units', () => {
  it('floors each unit to its UTC boundary', () => {
    const instant = at('2024-02-29T13:47:12.345Z');

    expect(iso(floorToUnit(instant, 'five_minute'))).toBe('2024-02-29T13:45:00.000Z');
    expect(iso(floorToUnit(instant, 'quarter_hour'))).toBe('2024-02-29T13:45:00.000Z');
    expect(iso(floorToUnit(instant, 'half_hour'))).toBe('2024-02-29T13:30:00.000Z');
    expect(iso(floorToUnit(instant, 'hour'))).toBe('2024-02-29T13:00:00.000Z');
    expect(iso(floorToUnit(instant, 'day'))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(floorToUnit(instant, 'month'))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(floorToUnit(instant, 'year'))).toBe('2024-01-01T00:00:00.000Z');
  });

  it('floors instants before 1970 down, not towards zero', () => {
    expect(iso(floorToUnit(at('1969-12-31T23:59:59Z'), 'day'))).toBe('1969-12-31T00:00:00.000Z');
    expect(iso(floorToUnit(at('1969-12-31T23:59:59Z'), 'hour'))).toBe('1969-12-31T23:00:00.000Z');
  });

  it('rounds up to the next boundary and leaves a boundary alone', () => {
    expect(iso(ceilToUnit(at('2024-01-31T00:00:01Z'), 'month'))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(ceilToUnit(at('2024-02-01T00:00:00Z'), 'month'))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(ceilToUnit(at('2024-12-31T23:00:00Z'), 'year'))).toBe('2025-01-01T00:00:00.000Z');
    expect(isUnitBoundary(at('2024-03-01T00:00:00Z'), 'month')).toBe(true);
    expect(isUnitBoundary(at('2024-03-01T00:05:00Z'), 'hour')).toBe(false);
  });

  it('adds months by the calendar, across leap years and year ends', () => {
    const january = at('2024-01-01T00:00:00Z');

    expect(iso(addUnits(january, 'month', 1))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(addUnits(january, 'month', 2))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(addUnits(january, 'month', 14))).toBe('2025-03-01T00:00:00.000Z');
    expect(iso(addUnits(january, 'month', -1))).toBe('2023-12-01T00:00:00.000Z');
    expect(iso(addUnits(january, 'month', -13))).toBe('2022-12-01T00:00:00.000Z');
  });

  it('adds years of 365 or 366 days as the calendar has them', () => {
    const leapYear = at('2024-01-01T00:00:00Z');

    expect(addUnits(leapYear, 'year', 1) - leapYear).toBe(366 * 86_400_000);
    expect(addUnits(addUnits(leapYear, 'year', 1), 'year', 1) - addUnits(leapYear, 'year', 1)).toBe(
      365 * 86_400_000,
    );
    expect(iso(addUnits(leapYear, 'year', -24))).toBe('2000-01-01T00:00:00.000Z');
    expect(iso(addUnits(at('0100-01-01T00:00:00Z'), 'year', -50))).toBe('0050-01-01T00:00:00.000Z');
  });

  it('counts the whole units within a range', () => {
    expect(
      unitsBetween(at('2000-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), 'five_minute'),
    ).toBe((Date.UTC(2026, 0, 1) - Date.UTC(2000, 0, 1)) / 300_000);
    expect(unitsBetween(at('2023-11-01T00:00:00Z'), at('2024-03-01T00:00:00Z'), 'month')).toBe(4);
    expect(unitsBetween(at('2023-11-15T00:00:00Z'), at('2024-03-15T00:00:00Z'), 'month')).toBe(3);
    expect(unitsBetween(at('2000-01-01T00:00:00Z'), at('2024-06-01T00:00:00Z'), 'year')).toBe(24);
    expect(unitsBetween(at('2024-01-02T00:00:00Z'), at('2024-01-01T00:00:00Z'), 'day')).toBe(0);
  });

  it('lists every unit from the finest to the coarsest', () => {
    expect([...UNITS_FINEST_FIRST].sort()).toEqual([...INTERVAL_UNITS].sort());
  });

  it('keeps floor, add and count consistent for every unit', () => {
    const unit = fc.constantFrom(...INTERVAL_UNITS);
    const instant = fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2100, 0, 1) });
    fc.assert(
      fc.property(unit, instant, fc.integer({ min: -500, max: 500 }), (u, ms, count) => {
        const floor = floorToUnit(ms, u);
        const moved = addUnits(floor, u, count);

        expect(floor <= ms && ms < addUnits(floor, u, 1)).toBe(true);
        expect(isUnitBoundary(moved, u)).toBe(true);
        expect(addUnits(moved, u, -count)).toBe(floor);
        expect(unitsBetween(Math.min(floor, moved), Math.max(floor, moved), u)).toBe(
          Math.abs(count),
        );
      }),
    );
  });
});
