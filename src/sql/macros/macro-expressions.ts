/**
 * The small expression language of @IF conditions: literals, macro variables, comparisons, AND,
 * OR, NOT, parentheses, IS [NOT] NULL and IN (...). NULL follows SQL's three-valued logic: a
 * comparison with NULL is NULL, and a NULL condition counts as false.
 */

import { SluiceError, type SourceLocation } from '../../core/errors.js';
import type { Token } from '../lexer.js';
import type { MacroValue } from '../macro-context.js';
import { isPunctuation, isTrivia, type TokenRange, tokenAt } from './macro-tokens.js';
import { literalOfToken } from './macro-values.js';

/** The value of an operand the renderer resolved, and the index of the token after it. */
export type Operand = { readonly value: MacroValue; readonly next: number };

/** What the evaluator asks the renderer: values of macros and lambda parameters, and locations. */
export type ConditionHooks = {
  /** The operand starting at token `index`, or undefined when the token is not one it knows. */
  readonly operand: (index: number, to: number) => Operand | undefined;
  /** Where an offset of the lexed text is in its file, for errors. */
  readonly locate: (offset: number) => SourceLocation;
};

const SUPPORTED =
  'literals, macro variables, =, !=, <>, <, <=, >, >=, AND, OR, NOT, parentheses, ' +
  'IS NULL, IS NOT NULL and IN (...)';
const COMPARISONS = new Set(['=', '!=', '<>', '<', '<=', '>', '>=']);

type Logical = boolean | null;
type Scalar = string | number | boolean;

/** Evaluates the condition in a range of tokens. */
export function evaluateCondition(
  tokens: readonly Token[],
  range: TokenRange,
  hooks: ConditionHooks,
): MacroValue {
  return new ConditionParser(tokens, range, hooks).parse();
}

/** Whether @IF takes its first branch: TRUE or a non-zero number; FALSE, NULL or zero do not. */
export function isConditionMet(value: MacroValue, locate: () => SourceLocation): boolean {
  if (value === null || typeof value === 'boolean') return value === true;
  if (typeof value === 'number') return value !== 0;
  throw new SluiceError(
    'macro_error',
    `The @IF condition must be true or false, but it is ${describe(value)}; compare it, e.g. @x = 'value'`,
    { location: locate() },
  );
}

/** A recursive-descent parser that evaluates while it parses. */
class ConditionParser {
  private readonly positions: number[] = [];
  private cursor = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly range: TokenRange,
    private readonly hooks: ConditionHooks,
  ) {
    for (let index = range.from; index < range.to; index++) {
      if (!isTrivia(tokenAt(tokens, index))) this.positions.push(index);
    }
  }

  parse(): MacroValue {
    const first = this.peek();
    if (first === undefined) throw this.error('The @IF condition is empty', this.range.from);
    const value = this.or();
    const rest = this.peek();
    if (rest !== undefined) throw this.unsupported(rest);
    return value;
  }

  private or(): MacroValue {
    let left = this.and();
    for (let token = this.peek(); this.acceptKeyword('or'); token = this.peek()) {
      const right = this.and();
      const [a, b] = [this.logical(left, token), this.logical(right, token)];
      left = a === true || b === true ? true : a === null || b === null ? null : false;
    }
    return left;
  }

  private and(): MacroValue {
    let left = this.not();
    for (let token = this.peek(); this.acceptKeyword('and'); token = this.peek()) {
      const right = this.not();
      const [a, b] = [this.logical(left, token), this.logical(right, token)];
      left = a === false || b === false ? false : a === null || b === null ? null : true;
    }
    return left;
  }

  private not(): MacroValue {
    const token = this.peek();
    if (!this.acceptKeyword('not')) return this.comparison();
    const value = this.logical(this.not(), token);
    return value === null ? null : !value;
  }

  private comparison(): MacroValue {
    const left = this.primary();
    const token = this.peek();
    if (this.acceptKeyword('is')) return this.isNull(left);
    if (this.isKeyword(0, 'not') && this.isKeyword(1, 'in')) {
      this.cursor += 2;
      const found = this.inList(left);
      return found === null ? null : !found;
    }
    if (this.acceptKeyword('in')) return this.inList(left);
    const comparison = token === undefined ? undefined : comparisonOf(token);
    if (token === undefined || comparison === undefined) return left;

    this.cursor++;
    const right = comparison.isRightNegated ? this.negate(this.primary(), token) : this.primary();
    return this.compare(comparison.operator, left, right, token);
  }

  private isNull(left: MacroValue): boolean {
    const isNegated = this.acceptKeyword('not');
    const token = this.peek();
    if (!this.acceptKeyword('null')) throw this.expected('NULL after IS', token);
    return isNegated ? left !== null : left === null;
  }

  private inList(left: MacroValue): Logical {
    this.expectPunctuation('(');
    const items: MacroValue[] = [];
    if (!isPunctuation(this.peek(), ')')) {
      do {
        items.push(...flatten(this.primary()));
      } while (this.acceptPunctuation(','));
    }
    const close = this.peek();
    this.expectPunctuation(')');

    const matches = items.map((item) => this.compare('=', left, item, close));
    if (matches.includes(true)) return true;
    return left === null || matches.includes(null) ? null : false;
  }

  private primary(): MacroValue {
    const token = this.peek();
    if (token === undefined) throw this.expected('a value', token);
    if (this.acceptPunctuation('(')) {
      const value = this.or();
      this.expectPunctuation(')');
      return value;
    }
    if (token.type === 'operator' && token.text === '-') {
      this.cursor++;
      return this.negate(this.primary(), token);
    }
    return this.literalOrOperand(token);
  }

  private literalOrOperand(token: Token): MacroValue {
    const literal = literalOfToken(token);
    if (literal !== undefined) {
      this.cursor++;
      return literal;
    }
    const operand = this.hooks.operand(this.positionOf(this.cursor), this.range.to);
    if (operand === undefined) throw this.unsupported(token);
    while (this.cursor < this.positions.length && this.positionOf(this.cursor) < operand.next) {
      this.cursor++;
    }
    return operand.value;
  }

  private compare(operator: string, left: MacroValue, right: MacroValue, at?: Token): Logical {
    if (left === null || right === null) return null;
    if (!isScalar(left) || !isScalar(right) || typeof left !== typeof right) {
      const message =
        `The @IF condition compares ${describe(left)} with ${describe(right)}; ` +
        'compare values of the same type (strings, numbers or booleans)';
      throw this.error(message, at?.start ?? this.range.from);
    }
    const order = orderOf(left, right);
    if (operator === '=') return order === 0;
    if (operator === '!=' || operator === '<>') return order !== 0;
    if (operator === '<') return order < 0;
    if (operator === '<=') return order <= 0;
    return operator === '>' ? order > 0 : order >= 0;
  }

  private negate(value: MacroValue, at: Token): MacroValue {
    if (value === null) return null;
    if (typeof value === 'number') return -value;
    throw this.error(
      `The @IF condition negates ${describe(value)}; only numbers can be negated`,
      at.start,
    );
  }

  private logical(value: MacroValue, at: Token | undefined): Logical {
    if (value === null || typeof value === 'boolean') return value;
    const message = `The @IF condition combines ${describe(value)} with AND, OR or NOT; use a comparison`;
    throw this.error(message, at?.start ?? this.range.from);
  }

  private peek(ahead = 0): Token | undefined {
    const position = this.positions[this.cursor + ahead];
    return position === undefined ? undefined : tokenAt(this.tokens, position);
  }

  private positionOf(cursor: number): number {
    return this.positions[cursor] ?? this.range.to;
  }

  private isKeyword(ahead: number, keyword: string): boolean {
    const token = this.peek(ahead);
    return token?.type === 'identifier' && token.text.toLowerCase() === keyword;
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(0, keyword)) return false;
    this.cursor++;
    return true;
  }

  private acceptPunctuation(text: string): boolean {
    if (!isPunctuation(this.peek(), text)) return false;
    this.cursor++;
    return true;
  }

  private expectPunctuation(text: string): void {
    const token = this.peek();
    if (!this.acceptPunctuation(text)) throw this.expected(`'${text}'`, token);
  }

  private expected(what: string, token: Token | undefined): SluiceError {
    if (token !== undefined) return this.unsupported(token, ` where ${what} was expected`);
    const end = this.positions.at(-1);
    const offset = end === undefined ? this.range.from : tokenAt(this.tokens, end).end;
    return this.error(`The @IF condition ends where ${what} was expected`, offset);
  }

  private unsupported(token: Token, where = ''): SluiceError {
    const message = `The @IF condition cannot use '${token.text}'${where}; conditions support ${SUPPORTED}`;
    return this.error(message, token.start);
  }

  private error(message: string, offset: number): SluiceError {
    return new SluiceError('macro_error', message, { location: this.hooks.locate(offset) });
  }
}

/**
 * The comparison an operator token makes. The lexer reads `=-1` as the operator `=-` before the
 * number, so a trailing minus is taken as the sign of the right-hand side.
 */
function comparisonOf(token: Token): { operator: string; isRightNegated: boolean } | undefined {
  if (token.type !== 'operator') return undefined;
  if (COMPARISONS.has(token.text)) return { operator: token.text, isRightNegated: false };
  const operator = token.text.slice(0, -1);
  const isSigned = token.text.endsWith('-') && COMPARISONS.has(operator);
  return isSigned ? { operator, isRightNegated: true } : undefined;
}

function isScalar(value: MacroValue): value is Scalar {
  return value !== null && !Array.isArray(value);
}

function orderOf(left: Scalar, right: Scalar): number {
  if (typeof left === 'string' && typeof right === 'string') {
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return Math.sign(Number(left) - Number(right));
}

function flatten(value: MacroValue): MacroValue[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value];
}

function describe(value: MacroValue): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'NULL' : `the ${typeof value} ${String(value)}`;
}
