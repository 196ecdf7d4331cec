import { SluiceError } from './errors.js';

const DURATION = /^(\d+)\s*(second|minute|hour|day|week)s?$/;

const UNIT_MS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
} as const;

/**
 * A duration written as `7 days`, `12 hours`, `30 minutes`, `2 weeks` or `45 seconds`, in
 * milliseconds.
 */
export function parseDuration(text: string, what: string): number {
  const match = DURATION.exec(text.trim().toLowerCase());
  const count = Number(match?.[1]);
  const unit = match?.[2] as keyof typeof UNIT_MS | undefined;
  if (unit !== undefined && Number.isSafeInteger(count) && count > 0) return count * UNIT_MS[unit];
  throw new SluiceError(
    'config_invalid',
    `${what} '${text}' is not a duration; write a whole number and a unit, such as '7 days', ` +
      "'12 hours' or '30 minutes'",
  );
}
