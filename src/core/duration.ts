import { SluiceError } from './errors.js';

const DURATION = /^(\d+)\s*(second|minute|hour|day|week)s?$/;
/** The short forms: `30s`, `5m`, `12h`, `7d`, `2w`. */
const SHORT_DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const SHORT_UNITS = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' } as const;

const UNIT_MS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
} as const;

/**
 * A duration written as `7 days`, `12 hours`, `30 minutes`, `2 weeks` or `45 seconds`, or
 * shortly as `7d`, `12h`, `30m`, `2w` or `45s`, in milliseconds.
 */
export function parseDuration(text: string, what: string): number {
  const written = text.trim().toLowerCase();
  const short = SHORT_DURATION.exec(written);
  const match = short ?? DURATION.exec(written);
  const count = Number(match?.[1]);
  const unit =
    short === null
      ? (match?.[2] as keyof typeof UNIT_MS | undefined)
      : SHORT_UNITS[short[2] as keyof typeof SHORT_UNITS];
  if (unit !== undefined && Number.isSafeInteger(count) && count > 0) return count * UNIT_MS[unit];
  throw new SluiceError(
    'config_invalid',
    `${what} '${text}' is not a duration; write a whole number and a unit, such as '7 days', ` +
      "'12 hours', '30 minutes' or '45s'",
  );
}
