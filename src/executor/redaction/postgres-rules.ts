import {
  DOUBLE_QUOTED,
  REDACTED,
  type RedactionRule,
  replaceValue,
  valueRule,
} from './redaction-rule.js';

/**
 * The shapes of PostgreSQL error text that carry data values: the server's message, and its
 * DETAIL and CONTEXT lines (`detail`, `where`) when a caller logs them. The PostgreSQL adapter
 * already leaves `detail` out of its messages and masks double-quoted text of data exceptions
 * (SQLSTATE class 22); these rules also cover the raw driver texts and the messages that adapter
 * lets through, such as `date field value out of range: 2020-13-01` with its value bare.
 * Messages without a value (`division by zero`, `integer out of range`, `value too long for type
 * character varying(5)`) match no rule and stay as they are.
 */

const KEY_ENDINGS = [
  'already exists',
  'is duplicated',
  'is not present in table',
  'is still referenced from table',
  'conflicts with existing key',
].join('|');

/** `Key (a, b)=(1, x) already exists.`: the columns stay, the values go. */
const KEY_VALUES: RedactionRule = {
  example: 'Key (id)=(42) already exists.',
  keyword: 'Key (',
  // The values are matched greedily up to the last ending on the line, because a value may hold
  // `) already exists` itself.
  pattern: new RegExp(
    String.raw`(?<before>Key \([^\n]*?\)=\()(?<value>[^\n]*)(?=\) (?:${KEY_ENDINGS}))`,
    'gm',
  ),
  replace: (match, groups) => replaceValue(match, groups, () => REDACTED),
};

/** The rules for PostgreSQL texts, in the order they are applied. */
export const POSTGRES_RULES: readonly RedactionRule[] = [
  KEY_VALUES,
  valueRule(
    'Key (r)=([3,7)) conflicts with existing key (r)=([1,5)).',
    'conflicts with existing key (',
    String.raw`(?<before>conflicts with existing key \([^\n]*?\)=\()(?<value>[^\n]*)(?=\))`,
  ),
  valueRule(
    'Failing row contains (44, x@example.com, null, 1, a).',
    'Failing row contains (',
    String.raw`(?<before>Failing row contains \()(?<value>[^\n]*)(?=\))`,
  ),
  valueRule(
    'invalid input syntax for type integer: "abc"',
    'invalid input syntax for type ',
    String.raw`(?<before>invalid input syntax for type [^:\n]+: )(?<value>${DOUBLE_QUOTED})`,
  ),
  valueRule(
    'invalid input value for enum mood: "angry"',
    'invalid input value for enum ',
    String.raw`(?<before>invalid input value for enum [^:\n]+: )(?<value>${DOUBLE_QUOTED})`,
  ),
  valueRule(
    'malformed array literal: "a"',
    ' literal: ',
    `(?<before>malformed [a-z]+ literal: )(?<value>${DOUBLE_QUOTED})`,
  ),
  valueRule(
    'date/time field value out of range: "2020-13-45" (also DuckDB, and bare: 2020-13-01)',
    'field value out of range: ',
    String.raw`(?<before>field value out of range: )(?<value>${DOUBLE_QUOTED}|[^\s,"][^\n,]*)`,
  ),
  valueRule(
    'value "99999999999" is out of range for type integer; "1.5e999" is out of range for type …',
    ' is out of range for type ',
    String.raw`(?<before>)(?<value>"[^\n]*?")(?= is out of range for type )`,
  ),
  valueRule(
    'invalid value "nope" for "YYYY"',
    'invalid value "',
    String.raw`(?<before>invalid value )(?<value>"[^\n]*?")(?= for ")`,
  ),
  valueRule(
    '"s" is not a valid binary digit',
    ' digit',
    String.raw`(?<before>)(?<value>"[^\n]*?")(?= is not a valid [a-z]+ digit)`,
  ),
  valueRule(
    'time zone "Mars/Base" not recognized',
    'time zone "',
    String.raw`(?<before>time zone )(?<value>"[^\n]*?")(?= not recognized)`,
  ),
  valueRule(
    'invalid byte sequence for encoding "UTF8": 0xc3 0x28',
    'byte sequence ',
    String.raw`(?<before>(?:byte sequence for encoding "[^"\n]*": |character with byte sequence ))(?<value>0x[0-9a-f]{2}(?: 0x[0-9a-f]{2})*)`,
  ),
  valueRule(
    'Token "x" is invalid.',
    'Token "',
    String.raw`(?<before>Token )(?<value>"[^\n]*?")(?= is invalid)`,
  ),
  valueRule(
    'JSON data, line 1: {"a": x...',
    'JSON data, line ',
    String.raw`(?<before>JSON data, line \d+: )(?<value>[^\n]+)`,
  ),
  valueRule(
    'COPY orders, line 2, column id: "abc"',
    'COPY ',
    String.raw`(?<before>COPY [^\n,]+, line \d+(?:, column [^:\n]+)?: )(?<value>[^\n]+)`,
  ),
];
