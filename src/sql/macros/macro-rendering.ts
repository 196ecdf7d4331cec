/**
 * Renders the macros of one statement. The statement is lexed once; rendering walks token ranges
 * of it, copying everything that is not a macro byte for byte, so strings, quoted identifiers,
 * comments, spacing and case stay as written.
 *
 * A lone `@` before anything but a name (`@ -5`) is left alone, but `@name` is always a macro:
 * PostgreSQL's prefix `@` (absolute value) written directly before a column name cannot be told
 * apart from a macro variable, so such SQL must put a space or parenthesis after the `@`.
 */

import type { SluiceError, SourceLocation } from '../../core/errors.js';
import type { SqlSource } from '../../core/model.js';
import { lineAndColumn, type Token, tokenize } from '../lexer.js';
import type { MacroValue } from '../macro-context.js';
import {
  isSupportedMacroFunction,
  isUnsupportedMacroFunction,
  macroUsageError,
  type SupportedMacroFunction,
  unknownFunctionError,
  unknownVariableError,
  unsupportedMacroError,
} from './macro-errors.js';
import { type ConditionHooks, evaluateCondition, type Operand } from './macro-expressions.js';
import { callMacroFunction, type MacroRenderer } from './macro-functions.js';
import { knownVariableNames, lookupVariable, type MacroScope } from './macro-scope.js';
import {
  isPunctuation,
  matchingClose,
  rangeText,
  skipTrivia,
  splitArguments,
  type TokenRange,
  tokenAt,
} from './macro-tokens.js';
import type { MacroBinding } from './macro-values.js';

type Expansion = { readonly binding: MacroBinding; readonly next: number };

/** The renderer of one lexed statement in one scope. */
export class MacroRendering implements MacroRenderer {
  constructor(
    private readonly source: SqlSource,
    readonly tokens: readonly Token[],
    readonly scope: MacroScope,
  ) {}

  /** The range's text with every macro replaced by what it renders to. */
  render(range: TokenRange): string {
    let output = '';
    let copyFrom = range.from;
    let index = range.from;
    while (index < range.to) {
      const expansion = this.replacementAt(index, range.to);
      if (expansion === undefined) {
        index++;
        continue;
      }
      output += rangeText(this.source.sql, this.tokens, { from: copyFrom, to: index });
      output += expansion.binding.sql;
      index = expansion.next;
      copyFrom = index;
    }
    return output + rangeText(this.source.sql, this.tokens, { from: copyFrom, to: range.to });
  }

  /** The value of the @IF condition in the range. */
  evaluate(range: TokenRange): MacroValue {
    const hooks: ConditionHooks = {
      operand: (index, to) => this.operandAt(index, to),
      locate: (offset) => this.locate(offset),
    };
    return evaluateCondition(this.tokens, range, hooks);
  }

  /** The binding of the macro token at `index`: a variable, `@{variable}` or a call. */
  expand(index: number, to: number): Expansion {
    const token = tokenAt(this.tokens, index);
    if (token.text.startsWith('@{')) {
      return { binding: this.identifierVariable(token), next: index + 1 };
    }

    const name = token.text.slice(1).toLowerCase();
    if (isSupportedMacroFunction(name)) return this.call(name, index, to);
    const binding = lookupVariable(this.scope, name);
    if (binding !== undefined) return { binding, next: index + 1 };

    const location = this.locate(token.start);
    if (isUnsupportedMacroFunction(name)) throw unsupportedMacroError(name, location);
    if (isPunctuation(this.tokens[index + 1], '(')) throw unknownFunctionError(name, location);
    throw unknownVariableError(name, knownVariableNames(this.scope), location);
  }

  withScope(scope: MacroScope): MacroRendering {
    return new MacroRendering(this.source, this.tokens, scope);
  }

  /** The file position of an offset into the statement's text. */
  locate(offset: number): SourceLocation {
    const { line, column } = lineAndColumn(this.source.sql, offset);
    return {
      file: this.source.file,
      line: this.source.line + line - 1,
      column: line === 1 ? this.source.column + column - 1 : column,
    };
  }

  /** A macro, or inside an @EACH body a lambda parameter written as a bare name. */
  private replacementAt(index: number, to: number): Expansion | undefined {
    const token = tokenAt(this.tokens, index);
    if (token.type === 'macro') return this.expand(index, to);
    if (token.type !== 'identifier' || this.scope.lambda.size === 0) return undefined;
    const binding = this.lambdaParameter(index);
    return binding === undefined ? undefined : { binding, next: index + 1 };
  }

  /** A bare name that is a lambda parameter, unless it is part of a dotted name like `t.x`. */
  private lambdaParameter(index: number): MacroBinding | undefined {
    const isQualified =
      isPunctuation(this.tokens[index - 1], '.') || isPunctuation(this.tokens[index + 1], '.');
    return isQualified
      ? undefined
      : this.scope.lambda.get(tokenAt(this.tokens, index).text.toLowerCase());
  }

  /** `@{name}` inserts the variable as an identifier: strings without their quotes. */
  private identifierVariable(token: Token): MacroBinding {
    if (!token.text.endsWith('}')) {
      const message = `Macro '${token.text}' is missing its closing brace`;
      throw macroUsageError(message, '@{suffix}', this.locate(token.start));
    }
    const name = token.text.slice(2, -1).trim().toLowerCase();
    const binding = name === '' ? undefined : lookupVariable(this.scope, name);
    if (binding === undefined) {
      const known = knownVariableNames(this.scope);
      throw unknownVariableError(name, known, this.locate(token.start));
    }
    return { ...binding, sql: binding.raw };
  }

  private call(name: SupportedMacroFunction, index: number, to: number): Expansion {
    const token = tokenAt(this.tokens, index);
    const open = skipTrivia(this.tokens, index + 1, to);
    if (open >= to || !isPunctuation(this.tokens[open], '(')) {
      throw this.callError(name, token, 'needs its arguments in parentheses');
    }
    const close = matchingClose(this.tokens, open, to);
    if (close === -1) throw this.callError(name, token, 'is missing its closing parenthesis');

    const args = splitArguments(this.tokens, { from: open + 1, to: close });
    return { binding: callMacroFunction(this, name, { token, args }), next: close + 1 };
  }

  private callError(name: string, token: Token, problem: string): SluiceError {
    const upper = name.toUpperCase();
    return macroUsageError(
      `Macro @${upper} ${problem}`,
      `@${upper}(...)`,
      this.locate(token.start),
    );
  }

  /** In a condition, a macro's value; SQL text that is not a value is read as a condition. */
  private operandAt(index: number, to: number): Operand | undefined {
    const token = tokenAt(this.tokens, index);
    const expansion = token.type === 'macro' ? this.expand(index, to) : this.lambdaOperand(index);
    if (expansion === undefined) return undefined;

    const { binding, next } = expansion;
    if (binding.value !== undefined) return { value: binding.value, next };
    return { value: this.evaluateText(binding.sql, token.start), next };
  }

  private lambdaOperand(index: number): Expansion | undefined {
    if (tokenAt(this.tokens, index).type !== 'identifier') return undefined;
    const binding = this.lambdaParameter(index);
    return binding === undefined ? undefined : { binding, next: index + 1 };
  }

  /** Evaluates rendered SQL text; its errors point at the macro it came from. */
  private evaluateText(sql: string, macroOffset: number): MacroValue {
    const tokens = tokenize(sql);
    const hooks: ConditionHooks = {
      operand: () => undefined,
      locate: () => this.locate(macroOffset),
    };
    return evaluateCondition(tokens, { from: 0, to: tokens.length }, hooks);
  }
}
