/**
 * The syntax of a SQLMesh `MODEL (...)` header, without its meaning: a comma-separated list of
 * items, each a sequence of nodes (names, strings, numbers, booleans, null, bracketed lists and
 * other symbols) with their offsets in the file. `name shop.orders` is one item of two nodes;
 * `kind FULL (...)` is a name, a name and a list. model-properties.ts gives the items meaning.
 */

import { SluiceError } from '../core/errors.js';
import { type NamePart, unquoteIdentifier } from '../core/names.js';
import { type Token, tokenize } from '../sql/lexer.js';
import { createSourceLocator, type SourceLocator } from './source-locator.js';

/** Offsets of a node in the file's text; `end` is exclusive. */
export type Span = { readonly start: number; readonly end: number };

/** A possibly dotted, possibly quoted name: `shop.orders`, `"My Schema".x`, `INT`. */
export type NameNode = Span & { readonly type: 'name'; readonly parts: readonly NamePart[] };

/** A bracketed list: `(a, b)` or `[a, b]`; a name directly before it makes a call or a kind. */
export type ListNode = Span & {
  readonly type: 'list';
  readonly bracket: '(' | '[';
  readonly items: readonly HeaderItem[];
};

/** One node of a header item. */
export type HeaderNode =
  | NameNode
  | ListNode
  | (Span & { readonly type: 'string'; readonly value: string })
  | (Span & { readonly type: 'number'; readonly value: number })
  | (Span & { readonly type: 'boolean'; readonly value: boolean })
  | (Span & { readonly type: 'null' })
  /** Operators (`:=`, `=`, `>`), macros and parameters, kept as written. */
  | (Span & { readonly type: 'symbol'; readonly text: string });

/** One comma-separated item: a non-empty sequence of nodes. */
export type HeaderItem = Span & { readonly nodes: readonly HeaderNode[] };

/** A parsed header; `end` is the offset just after its closing `)` and optional `;`. */
export type ModelHeader = Span & {
  readonly text: string;
  readonly file: string;
  readonly items: readonly HeaderItem[];
};

const OPENERS: Readonly<Record<string, ')' | ']'>> = { '(': ')', '[': ']' };
const CLOSERS = new Set([')', ']', '}']);
const LITERAL_WORDS = new Set(['true', 'false', 'null']);

/**
 * Parses the `MODEL (...)` header at the start of a model file in one pass over its tokens.
 * Throws a SluiceError with code `model_header_invalid` at the first syntax error.
 */
export function parseModelHeader(
  text: string,
  file: string,
  options: HeaderParseOptions = {},
): ModelHeader {
  const locate = options.locate ?? createSourceLocator(file, text);
  const tokens = (options.tokens ?? tokenize(text)).filter(isSignificant);
  return new HeaderParser(text, file, locate, tokens).parse();
}

/** A caller that has already lexed the file or built its locator passes them in to reuse them. */
export type HeaderParseOptions = {
  readonly locate?: SourceLocator;
  /** Every token of the file, as `tokenize` returns them. */
  readonly tokens?: readonly Token[];
};

function isSignificant(token: Token): boolean {
  return token.type !== 'whitespace' && token.type !== 'comment';
}

class HeaderParser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly locate: SourceLocator,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): ModelHeader {
    const keyword = this.tokens[0];
    if (keyword?.type !== 'identifier' || keyword.text.toUpperCase() !== 'MODEL') {
      throw this.error(
        `File '${this.file}' does not start with a MODEL header; a model file must start with \`MODEL (name schema.table, ...)\``,
        keyword?.start ?? 0,
      );
    }
    const opener = this.tokens[1];
    if (opener?.text !== '(') {
      throw this.error(
        `Expected '(' after MODEL in '${this.file}'; write the header as \`MODEL (name schema.table, ...)\``,
        opener?.start ?? keyword.end,
      );
    }
    this.index = 2;

    const items = this.parseItems(opener, ')');
    let end = this.tokens[this.index - 1]?.end ?? this.text.length;
    if (this.peek()?.text === ';') end = this.next().end;
    return { text: this.text, file: this.file, start: keyword.start, end, items };
  }

  /** Items up to the closer of `opener`, which this consumes; trailing commas are allowed. */
  private parseItems(opener: Token, closer: ')' | ']'): HeaderItem[] {
    const items: HeaderItem[] = [];
    for (;;) {
      const token = this.peek();
      if (token === undefined || token.text === ';') throw this.unclosed(opener, token);
      if (token.text === closer) {
        this.index++;
        return items;
      }
      if (CLOSERS.has(token.text)) throw this.mismatched(opener, closer, token);
      if (token.text === ',') {
        throw this.error(
          `Missing value before ',' in the MODEL header of '${this.file}'; remove the extra comma`,
          token.start,
        );
      }

      items.push(this.parseItem());
      if (this.peek()?.text === ',') this.index++;
    }
  }

  /** A sequence of nodes up to the next comma or closing bracket. */
  private parseItem(): HeaderItem {
    const nodes: HeaderNode[] = [];
    for (let token = this.peek(); token !== undefined; token = this.peek()) {
      if (token.text === ',' || token.text === ';' || CLOSERS.has(token.text)) break;
      nodes.push(this.parseNode(token));
    }
    const first = nodes[0];
    const last = nodes[nodes.length - 1];
    return { nodes, start: first?.start ?? 0, end: last?.end ?? 0 };
  }

  private parseNode(token: Token): HeaderNode {
    const closer = OPENERS[token.text];
    if (token.type === 'punctuation' && closer !== undefined) return this.parseList(closer);
    if (token.type === 'identifier' || token.type === 'quoted_identifier') return this.parseName();
    if (token.type === 'string') return this.parseString(this.next());
    if (token.type === 'number') return this.parseNumber(this.next(), 1, token.start);
    if (token.text === '-' || token.text === '+') {
      const number = this.tokens[this.index + 1];
      if (number?.type === 'number' && number.start === token.end) {
        this.index++;
        return this.parseNumber(this.next(), token.text === '-' ? -1 : 1, token.start);
      }
    }
    if (token.text === '{' || token.text === '.') {
      throw this.error(
        `Unexpected '${token.text}' in the MODEL header of '${this.file}'`,
        token.start,
      );
    }
    this.index++;
    return { type: 'symbol', text: token.text, start: token.start, end: token.end };
  }

  private parseList(closer: ')' | ']'): ListNode {
    const opener = this.next();
    const items = this.parseItems(opener, closer);
    const end = this.tokens[this.index - 1]?.end ?? opener.end;
    const bracket = closer === ')' ? '(' : '[';
    return { type: 'list', bracket, items, start: opener.start, end };
  }

  private parseName(): HeaderNode {
    const first = this.next();
    const parts = [this.namePart(first)];
    let last = first;
    while (this.peek()?.text === '.') {
      const dot = this.next();
      const part = this.peek();
      if (part?.type !== 'identifier' && part?.type !== 'quoted_identifier') {
        throw this.error(
          `Expected a name after '.' in the MODEL header of '${this.file}'`,
          dot.start,
        );
      }
      last = this.next();
      parts.push(this.namePart(last));
    }

    const span = { start: first.start, end: last.end };
    const word =
      parts.length === 1 && parts[0]?.quoted === false ? parts[0].text.toLowerCase() : '';
    if (!LITERAL_WORDS.has(word)) return { type: 'name', parts, ...span };
    return word === 'null'
      ? { type: 'null', ...span }
      : { type: 'boolean', value: word === 'true', ...span };
  }

  private namePart(token: Token): NamePart {
    if (token.type === 'identifier') return { text: token.text, quoted: false };
    if (token.text.length < 2 || !token.text.endsWith('"')) {
      throw this.error(
        `Unterminated quoted name in the MODEL header of '${this.file}'; close it with '"'`,
        token.start,
      );
    }
    return unquoteIdentifier(token.text);
  }

  private parseString(token: Token): HeaderNode {
    const value = unquoteString(token.text);
    if (value === undefined) {
      throw this.error(
        `Unterminated string in the MODEL header of '${this.file}'; close it with a quote`,
        token.start,
      );
    }
    return { type: 'string', value, start: token.start, end: token.end };
  }

  private parseNumber(token: Token, sign: number, start: number): HeaderNode {
    const value = sign * Number(token.text.replaceAll('_', ''));
    return { type: 'number', value, start, end: token.end };
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index++];
    if (token === undefined)
      throw new SluiceError('internal', 'Read past the end of a MODEL header');
    return token;
  }

  private unclosed(opener: Token, ending: Token | undefined): SluiceError {
    const where =
      ending === undefined
        ? 'the end of the file'
        : `the ';' at line ${this.locate(ending.start).line}`;
    const { line } = this.locate(opener.start);
    return this.error(
      `The '${opener.text}' at line ${line} of the MODEL header in '${this.file}' is not closed before ${where}; add the missing '${OPENERS[opener.text] ?? ')'}'`,
      opener.start,
    );
  }

  private mismatched(opener: Token, closer: string, found: Token): SluiceError {
    const { line } = this.locate(opener.start);
    return this.error(
      `Expected '${closer}' to close the '${opener.text}' at line ${line} of the MODEL header in '${this.file}', found '${found.text}'`,
      found.start,
    );
  }

  private error(message: string, offset: number): SluiceError {
    return new SluiceError('model_header_invalid', message, { location: this.locate(offset) });
  }
}

/** The value of a string token (`'it''s'`, `E'a\n'`, `$$x$$`), or undefined when unterminated. */
function unquoteString(token: string): string | undefined {
  if (token.startsWith('$')) {
    const tag = token.slice(0, token.indexOf('$', 1) + 1);
    const isClosed = token.length >= tag.length * 2 && token.endsWith(tag);
    return isClosed ? token.slice(tag.length, -tag.length) : undefined;
  }
  if (token.startsWith('E') || token.startsWith('e')) {
    if (token.length < 3 || !token.endsWith("'")) return undefined;
    return token
      .slice(2, -1)
      .replace(/''|\\(.)/gs, (_match, escaped?: string) =>
        escaped === undefined ? "'" : (BACKSLASH_ESCAPES[escaped] ?? escaped),
      );
  }
  const inner = token.slice(1, -1);
  const isClosed =
    token.length >= 2 && token.endsWith("'") && !inner.replaceAll("''", '').includes("'");
  return isClosed ? inner.replaceAll("''", "'") : undefined;
}

const BACKSLASH_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r' };
