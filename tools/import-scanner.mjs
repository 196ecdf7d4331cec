/**
 * Finds the module specifiers a TypeScript or JavaScript file imports, without a full parser: a
 * small tokenizer drops comments and keeps strings, template literals and regular expressions
 * whole, so that only real import forms are matched over its tokens.
 */

const WORD_CHAR = /[\w$\u0080-\uffff]/;
const SPACE = /\s/;

/** Words after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/** Punctuation that may appear between `import`/`export` and `from` in a declaration. */
const CLAUSE_PUNCTUATION = new Set(['{', '}', ',', '*']);

/**
 * Lists the module specifiers a source file imports, re-exports, loads with `import()` or
 * `require()`, each with the 1-based line of the specifier.
 */
export function findImports(source) {
  const tokens = tokenize(source);
  const lineStarts = findLineStarts(source);
  const found = [];

  for (let index = 0; index < tokens.length; index += 1) {
    const match = matchImport(tokens, index);
    if (match !== undefined) {
      const line = lineAt(lineStarts, match.token.offset);
      found.push({ specifier: match.token.value, line, kind: match.kind });
    }
  }
  return found;
}

/**
 * Splits source into words, punctuation, strings (quoted, or template literals without
 * substitutions), templates with substitutions and regular expressions; comments are dropped.
 */
export function tokenize(source) {
  const scan = { source, offset: 0, tokens: [], braces: [] };
  while (scan.offset < source.length) {
    step(scan);
  }
  return scan.tokens;
}

function step(scan) {
  const { source, offset } = scan;
  const char = source[offset] ?? '';
  const pair = source.slice(offset, offset + 2);

  if (SPACE.test(char)) scan.offset += 1;
  else if (pair === '//') scan.offset = indexOrEnd(source, '\n', offset);
  else if (pair === '/*') scan.offset = indexOrEnd(source, '*/', offset + 2) + 2;
  else if (char === "'" || char === '"') readQuoted(scan, char);
  else if (char === '`') readTemplate(scan, true);
  else if (char === '}' && scan.braces.at(-1) === 'template') resumeTemplate(scan);
  else if (char === '/' && startsRegex(scan.tokens.at(-1))) readRegex(scan);
  else if (WORD_CHAR.test(char)) readWord(scan);
  else readPunctuation(scan, char);
}

function indexOrEnd(source, text, from) {
  const index = source.indexOf(text, from);
  return index === -1 ? source.length : index;
}

function readQuoted(scan, quote) {
  const { source, offset } = scan;
  let end = offset + 1;
  while (end < source.length && source[end] !== quote && source[end] !== '\n') {
    end += source[end] === '\\' ? 2 : 1;
  }
  scan.tokens.push({ type: 'string', value: source.slice(offset + 1, end), offset });
  scan.offset = end + 1;
}

/** Reads template text up to its closing backtick or the next `${`, from a backtick or a `}`. */
function readTemplate(scan, isOpening) {
  const { source, offset } = scan;
  let end = offset + 1;
  while (end < source.length && source[end] !== '`' && source.slice(end, end + 2) !== '${') {
    end += source[end] === '\\' ? 2 : 1;
  }
  const hasSubstitution = source[end] === '$';

  if (isOpening && hasSubstitution) scan.tokens.push({ type: 'template', offset });
  if (isOpening && !hasSubstitution) {
    scan.tokens.push({ type: 'string', value: source.slice(offset + 1, end), offset });
  }
  if (hasSubstitution) scan.braces.push('template');
  scan.offset = end + (hasSubstitution ? 2 : 1);
}

function resumeTemplate(scan) {
  scan.braces.pop();
  readTemplate(scan, false);
}

function startsRegex(previous) {
  if (previous === undefined) return true;
  if (previous.type === 'punct') return !')]}'.includes(previous.value);
  return previous.type === 'word' && REGEX_AFTER_WORDS.has(previous.value);
}

function readRegex(scan) {
  const { source, offset } = scan;
  let end = offset + 1;
  let isInClass = false;
  while (end < source.length && source[end] !== '\n') {
    const char = source[end];
    if (char === '/' && !isInClass) break;
    if (char === '[') isInClass = true;
    if (char === ']') isInClass = false;
    end += char === '\\' ? 2 : 1;
  }

  if (source[end] !== '/') {
    readPunctuation(scan, '/');
    return;
  }
  end += 1;
  while (end < source.length && WORD_CHAR.test(source[end] ?? '')) end += 1;
  scan.tokens.push({ type: 'regex', offset });
  scan.offset = end;
}

function readWord(scan) {
  const { source, offset } = scan;
  let end = offset + 1;
  while (end < source.length && WORD_CHAR.test(source[end] ?? '')) end += 1;
  scan.tokens.push({ type: 'word', value: source.slice(offset, end), offset });
  scan.offset = end;
}

function readPunctuation(scan, char) {
  if (char === '{') scan.braces.push('code');
  if (char === '}') scan.braces.pop();
  scan.tokens.push({ type: 'punct', value: char, offset: scan.offset });
  scan.offset += 1;
}

function matchImport(tokens, index) {
  const token = tokens[index];
  if (token?.type !== 'word' || isMemberName(tokens, index)) return undefined;

  if (token.value === 'require') return matchCall(tokens, index, 'require');
  if (token.value === 'import') return matchImportKeyword(tokens, index);
  if (token.value === 'export') return matchExport(tokens, index);
  return undefined;
}

/** True for `x.import` or `x?.require`, but not for a spread such as `...require(...)`. */
function isMemberName(tokens, index) {
  return isPunct(tokens[index - 1], '.') && !isPunct(tokens[index - 2], '.');
}

function matchCall(tokens, index, kind) {
  const argument = tokens[index + 2];
  const after = tokens[index + 3];
  const isClosed = isPunct(after, ')') || isPunct(after, ',');
  if (!isPunct(tokens[index + 1], '(') || argument?.type !== 'string' || !isClosed) {
    return undefined;
  }
  return { token: argument, kind };
}

function matchImportKeyword(tokens, index) {
  const next = tokens[index + 1];
  if (isPunct(next, '(')) return matchCall(tokens, index, 'dynamic');
  if (next?.type === 'string') return { token: next, kind: 'import' };
  return matchFromClause(tokens, index + 1, 'import');
}

function matchExport(tokens, index) {
  const start = isWord(tokens[index + 1], 'type') ? index + 2 : index + 1;
  const first = tokens[start];
  if (!isPunct(first, '*') && !isPunct(first, '{')) return undefined;
  return matchFromClause(tokens, start, 'export');
}

/** Walks `x, { a as b, type C }` or `* as ns` up to `from '...'`; anything else ends the walk. */
function matchFromClause(tokens, start, kind) {
  let depth = 0;
  for (let index = start; index < tokens.length; index += 1) {
    const token = tokens[index];
    const next = tokens[index + 1];
    if (isWord(token, 'from') && next?.type === 'string') return { token: next, kind };

    if (isPunct(token, '{')) depth += 1;
    if (isPunct(token, '}')) depth -= 1;
    const isClausePart =
      token?.type === 'word' ||
      (token?.type === 'punct' && CLAUSE_PUNCTUATION.has(token.value)) ||
      (token?.type === 'string' && depth > 0);
    if (!isClausePart) return undefined;
  }
  return undefined;
}

function isPunct(token, value) {
  return token?.type === 'punct' && token.value === value;
}

function isWord(token, value) {
  return token?.type === 'word' && token.value === value;
}

function findLineStarts(source) {
  const starts = [0];
  for (let index = source.indexOf('\n'); index !== -1; index = source.indexOf('\n', index + 1)) {
    starts.push(index + 1);
  }
  return starts;
}

function lineAt(lineStarts, offset) {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((lineStarts[middle] ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}
