import {
  DOUBLE_QUOTED,
  REDACTED,
  type RedactionRule,
  replaceValue,
  valueRule,
} from './redaction-rule.js';

/**
 * The shapes of DuckDB error text that carry data values. DuckDB puts the value into the message
 * itself (`Duplicate key "id: 42" violates primary key constraint`); a raw DuckDB message also
 * ends with a `LINE n:` excerpt of the statement, which is the model's code and stays as it is.
 * DuckDB's own `date field value out of range: "…"` is covered by the PostgreSQL rules, which
 * word it the same way.
 */

/** A key's columns as DuckDB lists them: `a: 1, b: x`. */
const KEY_COLUMN = /(?:^|, )([\p{L}_][\p{L}\p{N}_$]*): /gu;

/**
 * `"id: 42"` becomes `"id: [redacted]"`; a key without column names (`"50"`) becomes
 * `"[redacted]"`. A known shortcoming: a text value that itself holds `, word: ` shows `word` as a
 * column name; knowing the constraint's columns would fix it.
 */
function redactKey(quoted: string): string {
  const inner = quoted.slice(1, -1);
  const columns = [...inner.matchAll(KEY_COLUMN)];
  if (columns[0]?.index !== 0) return `"${REDACTED}"`;

  const names = columns.map((column) => `${column[1]}: ${REDACTED}`);
  return `"${names.join(', ')}"`;
}

const KEY_ENDINGS = [
  ' violates',
  ' does not exist in the referenced table',
  ' is still referenced',
  '$',
];

/** `Duplicate key "id: 42" violates …`, `because key "pid: 42" is still referenced …`. */
const KEY_VALUES: RedactionRule = {
  example: 'Constraint Error: Duplicate key "id: 42" violates primary key constraint.',
  keyword: 'key "',
  pattern: new RegExp(
    String.raw`(?<before>(?:[Dd]uplicate key|because key) )(?<value>"[^\n]*?")(?=${KEY_ENDINGS.join('|')})`,
    'gm',
  ),
  replace: (match, groups) => replaceValue(match, groups, redactKey),
};

/** `Could not parse string "nope" according to …`, then the input again and a caret line. */
const PARSE_INPUT: RedactionRule = {
  example: 'Could not parse string "nope" according to format specifier "%Y-%m-%d"\\nnope\\n^',
  keyword: 'Could not parse string "',
  pattern:
    /(?<before>Could not parse string )(?<value>"[^\n]*?")(?<rest> according to [^\n]*)(?<echo>\n[^\n]*(?=\n *\^))?/gm,
  replace: (match, groups) => {
    const redacted = replaceValue(match, groups, () => `"${REDACTED}"`);
    return groups.echo === undefined
      ? redacted
      : `${redacted.slice(0, -groups.echo.length)}\n${REDACTED}`;
  },
};

/** Quoted text in the rest of a `Conversion Error:` line that no rule above handled. */
const LEFTOVER_QUOTED = /(?<![\p{L}\p{N}])(?:'[^'\n]*'|"[^"\n]*")(?![\p{L}\p{N}])/gu;

/** A type name DuckDB quotes in a conversion message, such as `to 'INTEGER'`. */
const TYPE_NAME = /^['"][A-Z][A-Z0-9_]*(?:\([\d, ]*\))?['"]$/;

/**
 * A conversion error quotes little besides the value, so whatever quoted text is left on that
 * line is taken for a value, except the marker and type names.
 */
const CONVERSION_LEFTOVERS: RedactionRule = {
  example: 'Conversion Error: <a shape no rule above knows> "value"',
  keyword: 'Conversion Error: ',
  pattern: /Conversion Error: [^\n]*/g,
  replace: (line) =>
    line.replace(LEFTOVER_QUOTED, (quoted) =>
      quoted.slice(1, -1) === REDACTED || TYPE_NAME.test(quoted)
        ? quoted
        : `${quoted[0]}${REDACTED}${quoted[0]}`,
    ),
};

/** The rules for DuckDB texts, in the order they are applied. */
export const DUCKDB_RULES: readonly RedactionRule[] = [
  KEY_VALUES,
  valueRule(
    "Conversion Error: Could not convert string 'abc' to INT32",
    'Could not convert string ',
    String.raw`(?<before>Could not convert string )(?<value>'[^\n]*?'|"[^\n]*?")(?= to )`,
  ),
  valueRule(
    "Conversion Error: Type INT64 with value 99999999999 can't be cast because …",
    " can't be cast",
    String.raw`(?<before>with value )(?<value>[^\n]*?)(?= can't be cast)`,
  ),
  valueRule(
    'Conversion Error: Casting value "12345.678" to type DECIMAL(4,2) failed',
    'Casting value "',
    String.raw`(?<before>Casting value )(?<value>"[^\n]*?")(?= to type )`,
  ),
  valueRule(
    'Conversion Error: invalid date field format: "2020-xx", expected format is (YYYY-MM-DD)',
    ' field format: ',
    `(?<before>invalid [a-z]+ field format: )(?<value>${DOUBLE_QUOTED})`,
  ),
  valueRule(
    'Conversion Error: Date out of range: 2020-13-1',
    'Date out of range: ',
    String.raw`(?<before>Date out of range: )(?<value>[^\n,]+)`,
  ),
  valueRule(
    'Conversion Error: extract specifier "fortnight" not recognized',
    'specifier "',
    `(?<before>specifier )(?<value>${DOUBLE_QUOTED})(?= not recognized)`,
  ),
  valueRule(
    'Conversion Error: … blob conversion of string "\\xZZ": \\xZZ',
    'conversion of string "',
    String.raw`(?<before>conversion of string )(?<value>"[^\n]*?": [^\n]*)`,
  ),
  valueRule(
    'Out of Range Error: Overflow in addition of INT32 (2147483647 + 1)!',
    'Overflow in ',
    String.raw`(?<before>Overflow in [a-z]+ of \S+ \()(?<value>[^\n]*)(?=\)!)`,
  ),
  valueRule(
    'Malformed JSON at byte 5 of input: unexpected end of data.  Input: "{"a":"',
    'Malformed JSON',
    String.raw`(?<before>Malformed JSON[^\n]*?Input: )(?<value>[^\n]+)`,
  ),
  valueRule(
    'CSV Error on Line: 3\\nOriginal Line: xx,bob',
    'Original Line: ',
    String.raw`(?<before>Original Line: )(?<value>[^\n]+)`,
  ),
  PARSE_INPUT,
  CONVERSION_LEFTOVERS,
];
