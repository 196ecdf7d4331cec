import { DUCKDB_RULES } from './duckdb-rules.js';
import { POSTGRES_RULES } from './postgres-rules.js';
import type { RedactionRule } from './redaction-rule.js';

/**
 * Data values in engine error texts, replaced with `[redacted]` before the texts leave the
 * Executor. Every rule of both engines runs on every text, since a log line does not say which
 * engine wrote it; each rule matches one wording that only engine errors use, so SQL text and
 * other log lines pass unchanged.
 * A known shortcoming: this is a list of known wordings. A message whose wording no rule knows
 * keeps its values (outside DuckDB's `Conversion Error:` lines, where leftover quoted text is
 * masked too). Engine upgrades need their new wordings checked against the tests in
 * test/executor/redaction; Python tracebacks are not handled here yet.
 */

const RULES: readonly RedactionRule[] = [...POSTGRES_RULES, ...DUCKDB_RULES];

/** `text` with the data values of the engine error wordings it contains replaced by the marker. */
export function redactDataValues(text: string): string {
  let redacted = text;
  for (const rule of RULES) {
    if (!redacted.includes(rule.keyword)) continue;
    redacted = redacted.replace(rule.pattern, (match: string, ...rest: unknown[]) =>
      rule.replace(match, namedGroupsOf(rest)),
    );
  }
  return redacted;
}

/** The named groups a replacer receives as its last argument. */
function namedGroupsOf(rest: readonly unknown[]): Readonly<Record<string, string | undefined>> {
  const last = rest.at(-1);
  return typeof last === 'object' && last !== null
    ? (last as Record<string, string | undefined>)
    : {};
}
