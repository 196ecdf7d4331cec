/**
 * Which words the canonical form of SQL upper-cases, and where. All of it is pinned: a change
 * here changes versions and needs a new FINGERPRINT_FORMAT.
 *
 * The rule that keeps this sound: a word is upper-cased only where it cannot be a name. DuckDB
 * keeps a name's case as written in result column names (`SELECT Total` and `SELECT total` build
 * different tables), so upper-casing a name could give two different queries one version.
 * PostgreSQL folds unquoted names to lower case, so upper-casing never changes what its SQL means.
 */

import type { Token } from './lexer.js';

/**
 * Keywords that are never a bare name: the words DuckDB 1.5 reserves or keeps for types and
 * functions, minus those it still accepts as column names (COLUMNS, GENERATED, MAP, STRUCT,
 * TRY_CAST). They are upper-cased anywhere except after a dot and as a column label after AS.
 */
export const CANONICAL_KEYWORDS: ReadonlySet<string> = new Set(
  [
    'ALL ANALYSE ANALYZE AND ANTI ANY ARRAY AS ASC ASOF ASYMMETRIC AT AUTHORIZATION BINARY BOTH',
    'BY CASE CAST CHECK COLLATE COLLATION COLUMN CONCURRENTLY CONSTRAINT CREATE CROSS DEFAULT',
    'DEFERRABLE DESC DESCRIBE DISTINCT DO ELSE END EXCEPT FALSE FETCH FOR FOREIGN FREEZE FROM',
    'FULL GLOB GROUP HAVING ILIKE IN INITIALLY INNER INTERSECT INTO IS ISNULL JOIN LAMBDA',
    'LATERAL LEADING LEFT LIKE LIMIT NATURAL NOT NOTNULL NULL OFFSET ON ONLY OR ORDER OUTER',
    'OVERLAPS PIVOT PIVOT_LONGER PIVOT_WIDER PLACING POSITIONAL PRIMARY QUALIFY REFERENCES',
    'RETURNING RIGHT SELECT SEMI SHOW SIMILAR SOME SUMMARIZE SYMMETRIC TABLE TABLESAMPLE THEN TO',
    'TRAILING TRUE UNION UNIQUE UNPACK UNPIVOT USING VARIADIC VERBOSE WHEN WHERE WINDOW WITH',
  ]
    .join(' ')
    .split(' '),
);

/** The tokens around one word: the two before it and the one after it. */
type Around = {
  readonly before: Token | undefined;
  readonly beforeThat: Token | undefined;
  readonly after: Token | undefined;
};

const FRAME_WORDS = new Set(['ROWS', 'RANGE', 'GROUPS', 'BETWEEN', 'AND']);

/** Types whose literals are written `DATE '2024-01-01'`; DuckDB names such a column by the type. */
const TYPED_LITERAL_WORDS = new Set(['DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMPTZ', 'INTERVAL']);

/** Built-in types, upper-cased after `::`; a user-defined type keeps its case. */
const CAST_TYPES = new Set(
  [
    'BIGINT BLOB BOOL BOOLEAN DATE DECIMAL DOUBLE FLOAT HUGEINT INT INTEGER INTERVAL JSON',
    'NUMERIC REAL SMALLINT TEXT TIME TIMESTAMP TIMESTAMPTZ TINYINT UBIGINT UINTEGER UUID VARCHAR',
  ]
    .join(' ')
    .split(' '),
);

/** Units of `INTERVAL 1 DAY`. */
const INTERVAL_UNITS = new Set(
  [
    'YEAR YEARS MONTH MONTHS WEEK WEEKS DAY DAYS HOUR HOURS MINUTE MINUTES SECOND SECONDS',
    'MILLISECOND MILLISECONDS MICROSECOND MICROSECONDS QUARTER QUARTERS',
  ]
    .join(' ')
    .split(' '),
);

type Rule = (around: Around) => boolean;

/**
 * Words DuckDB accepts as names, upper-cased only in a phrase that makes them keywords, such as
 * `PARTITION BY`, `UNBOUNDED PRECEDING` or `DATE '2024-01-01'`; elsewhere they keep their case.
 * Every other word keeps its case everywhere, function names included: changing its case makes a
 * new version, which costs a rebuild but never reuses a table for different data.
 */
const PHRASE_RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['PARTITION', (a) => wordOf(a.after) === 'BY'],
  ['OVER', (a) => isText(a.after, '(')],
  ['FILTER', (a) => isText(a.before, ')') && isText(a.after, '(')],
  ['WITHIN', (a) => wordOf(a.after) === 'GROUP'],
  ['ROWS', isFrameStart],
  ['RANGE', isFrameStart],
  ['GROUPS', isFrameStart],
  ['UNBOUNDED', (a) => isFrameWord(a.before) && isOneOf(a.after, ['PRECEDING', 'FOLLOWING'])],
  ['PRECEDING', (a) => wordOf(a.before) === 'UNBOUNDED' && isFrameWord(a.beforeThat)],
  ['FOLLOWING', (a) => wordOf(a.before) === 'UNBOUNDED' && isFrameWord(a.beforeThat)],
  ['CURRENT', (a) => isFrameWord(a.before) && wordOf(a.after) === 'ROW'],
  ['ROW', (a) => wordOf(a.before) === 'CURRENT' && isFrameWord(a.beforeThat)],
  ['NULLS', (a) => isOrderEnd(a.before) && isOneOf(a.after, ['FIRST', 'LAST'])],
  ['FIRST', (a) => wordOf(a.before) === 'NULLS' && isOrderEnd(a.beforeThat)],
  ['LAST', (a) => wordOf(a.before) === 'NULLS' && isOrderEnd(a.beforeThat)],
  ['RECURSIVE', (a) => wordOf(a.before) === 'WITH' && isCteName(a.after)],
  ['MATERIALIZED', isMaterializedCte],
  ['BETWEEN', (a) => isComparedOperand(a.before) && !isLabelEnd(a.after)],
  ['EXISTS', (a) => isText(a.after, '(')],
]);

/** Every word upper-cased somewhere, so that any other word is passed over at once. */
const CANDIDATES: ReadonlySet<string> = new Set([
  ...CANONICAL_KEYWORDS,
  ...PHRASE_RULES.keys(),
  ...TYPED_LITERAL_WORDS,
  ...CAST_TYPES,
  ...INTERVAL_UNITS,
]);

/** The length of the longest candidate; a longer word is no keyword. */
const LONGEST_WORD = Math.max(...[...CANDIDATES].map((word) => word.length));

/** Keywords that may follow a column label; they tell a label after AS from a keyword. */
const LABEL_FOLLOWERS = new Set([
  'EXCEPT',
  'FETCH',
  'FOR',
  'FROM',
  'GROUP',
  'HAVING',
  'INTERSECT',
  'INTO',
  'LIMIT',
  'OFFSET',
  'ORDER',
  'QUALIFY',
  'RETURNING',
  'UNION',
  'USING',
  'WHERE',
  'WINDOW',
]);

/**
 * The upper-case keyword the token at `index` is, or undefined when it is (or may be) a name and
 * so keeps its case. A listed keyword is a name after a dot (`t.end`) and as a column label after
 * AS (`SELECT 1 AS end`): there the token after it can only follow a select-list item (nothing,
 * `,`, `)`, `;` or a clause keyword such as FROM). Otherwise it is a keyword, as in
 * `CREATE TABLE t AS SELECT ...` or `WITH x AS NOT MATERIALIZED (...)`.
 */
export function keywordAt(tokens: readonly Token[], index: number): string | undefined {
  const word = wordOf(tokens[index]);
  if (word === undefined || !CANDIDATES.has(word)) return undefined;
  const around = {
    before: tokens[index - 1],
    beforeThat: tokens[index - 2],
    after: tokens[index + 1],
  };
  if (isText(around.before, '.')) return undefined;

  if (CANONICAL_KEYWORDS.has(word)) {
    const isLabel = wordOf(around.before) === 'AS' && isLabelEnd(around.after);
    return isLabel ? undefined : word;
  }
  return isPhraseKeyword(word, around) ? word : undefined;
}

function isPhraseKeyword(word: string, around: Around): boolean {
  if (PHRASE_RULES.get(word)?.(around) === true) return true;
  if (TYPED_LITERAL_WORDS.has(word) && around.after?.type === 'string') return true;
  if (word === 'INTERVAL' && around.after?.type === 'number') return true;
  if (CAST_TYPES.has(word) && around.before?.type === 'operator' && around.before.text === '::') {
    return true;
  }
  return INTERVAL_UNITS.has(word) && isIntervalAmount(around.before, around.beforeThat);
}

/**
 * An unquoted word of ASCII letters and `_` in upper case, or undefined. Only ASCII: toUpperCase
 * maps some other letters onto ASCII ones ('ı' to 'I', 'ſ' to 'S').
 */
function wordOf(token: Token | undefined): string | undefined {
  if (token?.type !== 'identifier' || token.text.length > LONGEST_WORD) return undefined;
  for (let index = 0; index < token.text.length; index++) {
    if (!isWordChar(token.text.charCodeAt(index))) return undefined;
  }
  return token.text.toUpperCase();
}

function isWordChar(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

function isText(token: Token | undefined, text: string): boolean {
  return token !== undefined && token.type === 'punctuation' && token.text === text;
}

/** Whether the token after a word shows the word to be a column label. */
function isLabelEnd(after: Token | undefined): boolean {
  if (after === undefined) return true;
  if (after.type === 'punctuation') return [',', ')', ';'].includes(after.text);
  return LABEL_FOLLOWERS.has(wordOf(after) ?? '');
}

/** Whether a token can end an operand: a name, a literal, a macro or a closing bracket. */
function isOperandEnd(token: Token | undefined): boolean {
  switch (token?.type) {
    case 'string':
    case 'quoted_identifier':
    case 'number':
    case 'macro':
    case 'parameter':
      return true;
    case 'punctuation':
      return token.text === ')' || token.text === ']';
    case 'identifier': {
      const word = wordOf(token);
      return word === undefined || !CANONICAL_KEYWORDS.has(word) || OPERAND_KEYWORDS.has(word);
    }
    default:
      return false;
  }
}

const OPERAND_KEYWORDS = new Set(['END', 'NULL', 'TRUE', 'FALSE']);

function isOneOf(token: Token | undefined, words: readonly string[]): boolean {
  return words.includes(wordOf(token) ?? '');
}

function isFrameWord(token: Token | undefined): boolean {
  return FRAME_WORDS.has(wordOf(token) ?? '');
}

/** `ORDER BY x ROWS BETWEEN ...` or `OVER (ROWS UNBOUNDED PRECEDING)`. */
function isFrameStart(around: Around): boolean {
  if (!isOneOf(around.after, ['BETWEEN', 'UNBOUNDED', 'CURRENT'])) return false;
  const isWindowStart = isText(around.before, '(') && isOneOf(around.beforeThat, ['OVER', 'AS']);
  return isWindowStart || isOrderEnd(around.before);
}

/** What may come before NULLS FIRST or a frame in an ordering: `x`, `x DESC`, `NULLS LAST`. */
function isOrderEnd(token: Token | undefined): boolean {
  return isOneOf(token, ['ASC', 'DESC', 'FIRST', 'LAST']) || isOperandEnd(token);
}

/** `x BETWEEN` or `x NOT BETWEEN`. */
function isComparedOperand(before: Token | undefined): boolean {
  return isOperandEnd(before) || wordOf(before) === 'NOT';
}

/** `WITH RECURSIVE t AS`, not a CTE named recursive: `WITH recursive AS`. */
function isCteName(after: Token | undefined): boolean {
  if (after?.type === 'quoted_identifier') return true;
  return after?.type === 'identifier' && wordOf(after) !== 'AS';
}

/** `AS MATERIALIZED (`, `AS NOT MATERIALIZED (` and `CREATE MATERIALIZED VIEW`. */
function isMaterializedCte(around: Around): boolean {
  const before = wordOf(around.before);
  if (before === 'CREATE') return wordOf(around.after) === 'VIEW';
  if (!isText(around.after, '(')) return false;
  return before === 'AS' || (before === 'NOT' && wordOf(around.beforeThat) === 'AS');
}

/** `INTERVAL 1 DAY` and `INTERVAL '1' DAY`. */
function isIntervalAmount(before: Token | undefined, beforeThat: Token | undefined): boolean {
  const isAmount = before?.type === 'number' || before?.type === 'string';
  return isAmount && wordOf(beforeThat) === 'INTERVAL';
}
