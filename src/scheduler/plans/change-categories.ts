import type { Model } from '../../core/model.js';
import type { ChangeCategory } from '../../core/plan.js';
import type { Snapshot } from '../../core/snapshot.js';
import { unifiedDiff } from '../../core/text-diff.js';
import { canonicalSql } from '../../sql/canonical-sql.js';
import { classifyQueryChange } from '../../sql/select-list-change.js';

/**
 * How a directly modified model's change is categorised. Only a change to the query that adds
 * columns to its select list, with everything else the same, is non-breaking; any other change
 * to what shapes the data (kind, columns, pre- and post-statements, variables, seed contents) is
 * breaking.
 */
export function directCategory(
  before: Snapshot,
  after: Snapshot,
): { readonly category: ChangeCategory; readonly reason: string | undefined } {
  if (!sameOutsideQuery(before.model, after.model) || !sameVariables(before, after)) {
    return { category: 'breaking', reason: 'something other than the query changed' };
  }
  const oldQuery = before.model.query?.sql;
  const newQuery = after.model.query?.sql;
  if (oldQuery === undefined || newQuery === undefined) {
    return { category: 'breaking', reason: 'the model has no query to compare' };
  }

  const change = classifyQueryChange(oldQuery, newQuery);
  switch (change.kind) {
    case 'adds_columns':
      return { category: 'non_breaking', reason: undefined };
    case 'breaking':
      return { category: 'breaking', reason: change.reason };
    case 'unchanged':
      // The query is the same but the data hash differs: a seed's file or something the
      // canonical form keeps (such as keyword case outside the query) changed.
      return { category: 'breaking', reason: 'the data the model reads from its files changed' };
  }
}

/** A unified diff of the model's SQL: pre-statements, query and post-statements. */
export function sqlDiff(before: Snapshot, after: Snapshot): string {
  return unifiedDiff(sqlText(before.model), sqlText(after.model), {
    oldLabel: `${before.name} (${before.version})`,
    newLabel: `${after.name} (new)`,
  });
}

function sqlText(model: Model): string {
  const statements = [...model.preStatements, model.query, ...model.postStatements]
    .filter((statement) => statement !== undefined)
    .map((statement) => statement.sql.trim());
  return `${statements.join(';\n\n')}\n`;
}

function sameOutsideQuery(before: Model, after: Model): boolean {
  const canonical = (statements: Model['preStatements']) =>
    statements.map((statement) => canonicalSql(statement.sql));
  return (
    kindDataOf(before) === kindDataOf(after) &&
    before.dialect === after.dialect &&
    JSON.stringify(before.columns) === JSON.stringify(after.columns) &&
    JSON.stringify(canonical(before.preStatements)) ===
      JSON.stringify(canonical(after.preStatements)) &&
    JSON.stringify(canonical(before.postStatements)) ===
      JSON.stringify(canonical(after.postStatements))
  );
}

/** The kind's settings that shape data; batch size, lookback and forward_only do not. */
const SCHEDULING_SETTINGS = new Set(['batchSize', 'lookback', 'isForwardOnly']);

function kindDataOf(model: Model): string {
  return JSON.stringify(model.kind, (key, value) =>
    SCHEDULING_SETTINGS.has(key) ? undefined : value,
  );
}

function sameVariables(before: Snapshot, after: Snapshot): boolean {
  return JSON.stringify(before.variables) === JSON.stringify(after.variables);
}
