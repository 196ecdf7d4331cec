/**
 * The macro renderer: turns a model's SQL, written with SQLMesh's macro syntax (`@start_ds`,
 * `@DEF`, `@VAR`, `@IF`, `@EACH`), into the SQL that runs. See DESIGN.md section 3.
 */

import type { SqlSource } from '../../core/model.js';
import { significantTokens, tokenize } from '../lexer.js';
import type { MacroContext, MacroValue } from '../macro-context.js';
import { MacroRendering } from './macro-rendering.js';
import { createScope, type MacroScope } from './macro-scope.js';

export { BUILT_IN_MACRO_VARIABLES } from './macro-variables.js';

/** A model's statements after rendering, with @DEF statements left out. */
export type RenderedModelStatements = {
  readonly pre: string[];
  /** Undefined when the model has no query or its query renders to nothing. */
  readonly query: string | undefined;
  readonly post: string[];
};

/**
 * Renders a model's statements in order; `@DEF` statements define variables for the later ones
 * and render to nothing (they are left out of the result, as is any statement that renders to
 * nothing but white space and comments, such as an @IF whose condition is false).
 */
export function renderStatements(sources: readonly SqlSource[], context: MacroContext): string[] {
  const scope = createScope(context);
  return sources.flatMap((source) => renderStatement(source, scope) ?? []);
}

/**
 * Renders a model's pre-statements, query and post-statements; a @DEF anywhere defines its
 * variable for every statement after it, and statements that render to nothing are left out.
 */
export function renderModelStatements(
  pre: readonly SqlSource[],
  query: SqlSource | undefined,
  post: readonly SqlSource[],
  context: MacroContext,
): RenderedModelStatements {
  const scope = createScope(context);
  const renderedPre = pre.flatMap((source) => renderStatement(source, scope) ?? []);
  const renderedQuery = query === undefined ? undefined : renderStatement(query, scope);
  const renderedPost = post.flatMap((source) => renderStatement(source, scope) ?? []);
  return { pre: renderedPre, query: renderedQuery, post: renderedPost };
}

/**
 * Renders one SQL text, with variables defined earlier (from @DEF) passed in. A @DEF inside the
 * text defines its variable for the rest of this text only; `defined` is not changed.
 */
export function renderSql(
  source: SqlSource,
  context: MacroContext,
  defined?: Map<string, MacroValue>,
): string {
  return renderText(source, createScope(context, defined));
}

/** The rendered statement, or undefined when nothing but white space and comments is left. */
function renderStatement(source: SqlSource, scope: MacroScope): string | undefined {
  const rendered = renderText(source, scope);
  if (rendered === source.sql) return rendered;
  return isBlank(rendered) ? undefined : rendered;
}

/** Only white space and comments; lexes the text only when it could start with a comment. */
function isBlank(sql: string): boolean {
  const first = sql.search(/\S/);
  if (first === -1) return true;
  const char = sql[first];
  return (char === '-' || char === '/') && significantTokens(sql).length === 0;
}

function renderText(source: SqlSource, scope: MacroScope): string {
  if (!source.sql.includes('@')) return source.sql;
  const tokens = tokenize(source.sql);
  return new MacroRendering(source, tokens, scope).render({ from: 0, to: tokens.length });
}
