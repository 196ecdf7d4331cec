/**
 * A redaction rule finds one known shape of engine error text and replaces the data values in it
 * with a marker, leaving the words around them (error kind, constraint, table and column names).
 * Rules work on text alone: they do not know which engine or statement produced it.
 */

/** What replaces a data value; the same marker the PostgreSQL adapter puts in its messages. */
export const REDACTED = '[redacted]';

/** One known shape of engine error text and how its values are replaced. */
export type RedactionRule = {
  /** The message shape, for readers of the rule lists; quoted from a real engine. */
  readonly example: string;
  /**
   * Text every match contains. A rule runs only on texts that hold it, which keeps long log lines
   * (a statement with thousands of quoted names) from costing a regular expression scan per rule.
   */
  readonly keyword: string;
  /** A global regular expression; matches never span lines unless the shape itself does. */
  readonly pattern: RegExp;
  /** The replacement, given the match and its named groups. */
  readonly replace: (match: string, groups: Readonly<Record<string, string | undefined>>) => string;
};

/**
 * A value in double quotes, as both engines print it: without escaping the quotes inside it. It
 * ends at the first quote followed by the end of the line, a space or punctuation and a space, so
 * `"a"b"` is one value. A value that itself holds a quote followed by a space is cut there, and
 * the rest of it stays in the text; knowing the statement's values would be needed to do better.
 */
export const DOUBLE_QUOTED = String.raw`"[^\n]*?"(?=[,;.!:)]?(?:[ \n]|$))`;

/**
 * A rule whose pattern is `(?<before>…)(?<value>…)` followed by lookaheads only: the value is
 * replaced by the marker (kept in its quotes) and the text before it stays.
 */
export function valueRule(example: string, keyword: string, source: string): RedactionRule {
  return {
    example,
    keyword,
    pattern: new RegExp(source, 'gm'),
    replace: (match, groups) => replaceValue(match, groups, quotedMarker),
  };
}

/** The marker in the quotes the value had, or bare when it had none. */
export function quotedMarker(value: string): string {
  const quote = value[0];
  const isQuoted = (quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote);
  return isQuoted ? `${quote}${REDACTED}${quote}` : REDACTED;
}

/** Replaces group `value` of a match that starts with group `before`, keeping everything else. */
export function replaceValue(
  match: string,
  groups: Readonly<Record<string, string | undefined>>,
  replacement: (value: string) => string,
): string {
  const before = groups.before ?? '';
  const value = groups.value;
  if (value === undefined) return match;

  const rest = match.slice(before.length + value.length);
  return before + replacement(value) + rest;
}
