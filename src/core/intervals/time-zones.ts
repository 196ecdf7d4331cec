/**
 * IANA time zone names, checked with Intl (pure: no I/O), for `cron_tz`.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether the runtime knows the zone (`Europe/Berlin`, `UTC`; case-insensitive, as Intl is). */
export function isKnownTimeZone(name: string): boolean {
  return canonicalTimeZone(name) !== undefined;
}

/** Intl's canonical spelling of a zone (`europe/berlin` is `Europe/Berlin`), or undefined. */
export function canonicalTimeZone(name: string): string | undefined {
  if (name.trim() === '' || name !== name.trim()) return undefined;
  try {
    let formatter = formatters.get(name);
    if (formatter === undefined) {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone: name });
      formatters.set(name, formatter);
    }
    return formatter.resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Whether a known zone is UTC under another name (`UTC`, `Etc/UTC`, `GMT`). */
export function isUtcZone(name: string): boolean {
  const canonical = canonicalTimeZone(name);
  return canonical === 'UTC' || canonical === 'Etc/UTC' || canonical === 'Etc/GMT';
}

/** The zone names the runtime lists, plus UTC, for "did you mean" hints. */
export function listedTimeZones(): readonly string[] {
  return ['UTC', ...Intl.supportedValuesOf('timeZone')];
}
