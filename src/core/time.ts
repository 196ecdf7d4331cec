import { SluiceError } from './errors.js';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?$/;

/** A half-open interval `[start, end)` in UTC. */
export type Interval = { readonly start: Date; readonly end: Date };

/** Parses a date (`2024-01-01`) or timestamp (`2024-01-01 12:00[:00]`, ISO 8601) as UTC. */
export function parseInstant(text: string, what: string): Date {
  const trimmed = text.trim();
  const dateTime = DATE_TIME.exec(trimmed);
  let iso: string | undefined;
  if (DATE_ONLY.test(trimmed)) iso = `${trimmed}T00:00:00Z`;
  else if (dateTime !== null) iso = `${dateTime[1]}T${dateTime[2]}${dateTime[5] ?? 'Z'}`;

  const instant = iso === undefined ? undefined : new Date(iso);
  if (instant === undefined || Number.isNaN(instant.getTime())) {
    throw new SluiceError(
      'usage',
      `${what} '${text}' is not a date or timestamp; write it as 2024-01-01 or 2024-01-01 12:00:00`,
    );
  }
  return instant;
}

/**
 * The interval a user means by `--start` and `--end`: a date-only end is inclusive (the whole
 * day), as in SQLMesh; an end with a time of day is the exclusive end instant.
 */
export function parseUserInterval(startText: string, endText: string): Interval {
  const start = parseInstant(startText, '--start');
  const endInstant = parseInstant(endText, '--end');
  const end = DATE_ONLY.test(endText.trim()) ? addDays(endInstant, 1) : endInstant;
  if (end.getTime() <= start.getTime()) {
    throw new SluiceError(
      'usage',
      `--end ${endText} is before --start ${startText}; give an end on or after the start`,
    );
  }
  return { start, end };
}

/** The instant `days` whole days after `instant`. */
export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * 86_400_000);
}

/** Midnight UTC of the day that contains `instant`. */
export function startOfDay(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
}
