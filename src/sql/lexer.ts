/**
 * A small SQL lexer shared by the model-file splitter, the macro renderer and the reference
 * rewriter. It knows strings, quoted identifiers, comments and dollar quoting well enough never to
 * mistake their contents for code; it does not validate SQL (the dialect's parser does that).
 */

export type TokenType =
  | 'whitespace'
  | 'comment'
  | 'string'
  | 'quoted_identifier'
  | 'identifier'
  | 'number'
  | 'macro'
  | 'parameter'
  | 'punctuation'
  | 'operator';

/** One token; `start` and `end` are offsets into the lexed text, `end` exclusive. */
export type Token = {
  readonly type: TokenType;
  readonly start: number;
  readonly end: number;
  readonly text: string;
};

const PUNCTUATION = new Set(['(', ')', '[', ']', '{', '}', ',', ';', '.']);
const OPERATOR_CHARS = new Set([...'+-*/<>=~!%^&|`?:#']);

/** Splits SQL text into tokens, comments and white space included, so that tokens cover it. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const end = scanToken(text, position);
    tokens.push({
      type: end.type,
      start: position,
      end: end.end,
      text: text.slice(position, end.end),
    });
    position = end.end;
  }
  return tokens;
}

/** The tokens without white space and comments. */
export function significantTokens(text: string): Token[] {
  return tokenize(text).filter((token) => token.type !== 'whitespace' && token.type !== 'comment');
}

type Scanned = { type: TokenType; end: number };

function scanToken(text: string, start: number): Scanned {
  const char = text[start] ?? '';
  const next = text[start + 1] ?? '';

  const code = text.charCodeAt(start);
  if (isSpace(code)) return { type: 'whitespace', end: scanWhile(text, start, isSpace) };
  if (char === '-' && next === '-') return { type: 'comment', end: lineEnd(text, start) };
  if (char === '/' && next === '*') return { type: 'comment', end: blockCommentEnd(text, start) };
  if (char === "'") return { type: 'string', end: quotedEnd(text, start, "'") };
  if ((char === 'E' || char === 'e') && next === "'") {
    return { type: 'string', end: escapedStringEnd(text, start + 1) };
  }
  if (char === '"') return { type: 'quoted_identifier', end: quotedEnd(text, start, '"') };
  if (char === '$') return scanDollar(text, start);
  if (char === '@') return scanMacro(text, start);
  if (isIdentifierStart(code)) {
    return { type: 'identifier', end: scanWhile(text, start, isIdentifierPart) };
  }
  if (isDigit(code) || (char === '.' && isDigit(next.charCodeAt(0)))) {
    return { type: 'number', end: numberEnd(text, start) };
  }
  if (PUNCTUATION.has(char)) return { type: 'punctuation', end: start + 1 };
  if (OPERATOR_CHARS.has(char)) {
    return { type: 'operator', end: scanWhile(text, start, isOperatorChar) };
  }
  return { type: 'operator', end: start + 1 };
}

function scanWhile(text: string, start: number, accept: (code: number) => boolean): number {
  let position = start;
  while (position < text.length && accept(text.charCodeAt(position))) position++;
  return position;
}

function lineEnd(text: string, start: number): number {
  const newline = text.indexOf('\n', start);
  return newline === -1 ? text.length : newline;
}

/** Block comments nest, as in PostgreSQL; an unterminated one runs to the end of the text. */
function blockCommentEnd(text: string, start: number): number {
  let depth = 0;
  let position = start;
  while (position < text.length) {
    if (text.startsWith('/*', position)) {
      depth++;
      position += 2;
    } else if (text.startsWith('*/', position)) {
      depth--;
      position += 2;
      if (depth === 0) return position;
    } else {
      position++;
    }
  }
  return text.length;
}

/** A quoted run where the quote is escaped by doubling it; unterminated runs to the end. */
function quotedEnd(text: string, start: number, quote: string): number {
  let position = start + 1;
  while (position < text.length) {
    if (text[position] === quote) {
      if (text[position + 1] === quote) {
        position += 2;
        continue;
      }
      return position + 1;
    }
    position++;
  }
  return text.length;
}

function escapedStringEnd(text: string, quoteAt: number): number {
  let position = quoteAt + 1;
  while (position < text.length) {
    const char = text[position];
    if (char === '\\') {
      position += 2;
    } else if (char === "'" && text[position + 1] === "'") {
      position += 2;
    } else if (char === "'") {
      return position + 1;
    } else {
      position++;
    }
  }
  return text.length;
}

/** `$1` is a parameter; `$tag$ ... $tag$` and `$$ ... $$` are dollar-quoted strings. */
function scanDollar(text: string, start: number): Scanned {
  if (isDigit(text.charCodeAt(start + 1))) {
    return { type: 'parameter', end: scanWhile(text, start + 1, isDigit) };
  }
  const tagEnd = scanWhile(text, start + 1, (code) => code !== DOLLAR && isIdentifierPart(code));
  if (text[tagEnd] !== '$') return { type: 'operator', end: start + 1 };
  const tag = text.slice(start, tagEnd + 1);
  const close = text.indexOf(tag, tagEnd + 1);
  return { type: 'string', end: close === -1 ? text.length : close + tag.length };
}

/** `@name`, `@{name}` and `@NAME(` (the call's arguments are separate tokens). */
function scanMacro(text: string, start: number): Scanned {
  if (text[start + 1] === '{') {
    const close = text.indexOf('}', start + 2);
    return { type: 'macro', end: close === -1 ? text.length : close + 1 };
  }
  if (!isIdentifierStart(text.charCodeAt(start + 1))) return { type: 'operator', end: start + 1 };
  return { type: 'macro', end: scanWhile(text, start + 1, isIdentifierPart) };
}

function numberEnd(text: string, start: number): number {
  const isDigitOrSeparator = (code: number) => isDigit(code) || code === UNDERSCORE;
  let position = scanWhile(text, start, isDigitOrSeparator);
  if (text[position] === '.' && text[position + 1] !== '.') {
    position = scanWhile(text, position + 1, isDigitOrSeparator);
  }
  if (/[eE]/.test(text[position] ?? '') && /[-+\d]/.test(text[position + 1] ?? '')) {
    position = scanWhile(text, position + 2, isDigit);
  }
  return position;
}

const DOLLAR = 36;
const UNDERSCORE = 95;

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 160 || code === 0xfeff;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isIdentifierStart(code: number): boolean {
  return isLetter(code) || code === UNDERSCORE || code > 127;
}

function isIdentifierPart(code: number): boolean {
  return isIdentifierStart(code) || isDigit(code) || code === DOLLAR;
}

function isOperatorChar(code: number): boolean {
  return OPERATOR_CHARS.has(String.fromCharCode(code));
}

/** Converts an offset into 1-based line and column. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; ) {
    line++;
    lineStart = index + 1;
    index = text.indexOf('\n', lineStart);
  }
  return { line, column: offset - lineStart + 1 };
}

/** Splits text into statements at semicolons outside strings, identifiers and comments. */
export function splitStatements(text: string): { text: string; start: number }[] {
  const statements: { text: string; start: number }[] = [];
  let start = 0;
  for (const token of tokenize(text)) {
    if (token.type === 'punctuation' && token.text === ';') {
      statements.push({ text: text.slice(start, token.start), start });
      start = token.end;
    }
  }
  statements.push({ text: text.slice(start), start });
  return statements.filter((statement) => significantTokens(statement.text).length > 0);
}
