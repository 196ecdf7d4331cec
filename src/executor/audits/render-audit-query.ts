import type { Model } from '../../core/model.js';
import type { TableName } from '../../core/table-resolver.js';
import type { AuditSpec } from '../../protocol/task.js';
import { renderAuditSql } from '../../sql/audits/render-audit-sql.js';
import { quoteIdentifier, quoteTable } from '../../sql/dialect.js';
import type { MacroValue } from '../../sql/macro-context.js';
import { quoteSqlString } from '../../sql/macros/macro-values.js';
import { timeRangeBounds } from '../materialize/time-range-bounds.js';

/** The table an audit checks, and the interval an incremental model's audit is limited to. */
export type AuditTarget = {
  readonly table: TableName;
  readonly model: Model;
  readonly interval: { readonly startMs: number; readonly endMs: number } | undefined;
  /** The engine's type of the time column, so zoned timestamps compare as instants. */
  readonly timeColumnType?: string;
};

/** What else the macros read: the execution time, the gateway and the project variables. */
export type AuditRenderOptions = {
  readonly executionTimeMs?: number;
  readonly gateway?: string;
  readonly variables?: Readonly<Record<string, MacroValue>>;
};

/**
 * The SQL selecting an audit's failing rows. `@this_model` is the physical table or, for an
 * INCREMENTAL_BY_TIME_RANGE model audited over an interval, only the interval's rows of it as a
 * derived table; the interval's macro variables (`@start_ds`, ...) render for the interval.
 */
export function renderAuditQuery(
  spec: AuditSpec,
  target: AuditTarget,
  dialect: Model['dialect'],
  options: AuditRenderOptions = {},
): string {
  const executionTime = new Date(options.executionTimeMs ?? target.interval?.endMs ?? 0);
  const start = target.interval === undefined ? executionTime : new Date(target.interval.startMs);
  const end = target.interval === undefined ? executionTime : new Date(target.interval.endMs);
  return renderAuditSql(spec, target.model.name, {
    dialect,
    start,
    end,
    executionTime,
    runtimeStage: 'auditing',
    gateway: options.gateway ?? '',
    thisModel: thisModelOf(target, dialect),
    variables: options.variables ?? {},
  });
}

function thisModelOf(target: AuditTarget, dialect: Model['dialect']): string {
  const table = quoteTable(dialect, target.table);
  const { kind, name } = target.model;
  if (kind.name !== 'INCREMENTAL_BY_TIME_RANGE' || target.interval === undefined) return table;

  const interval = {
    start: new Date(target.interval.startMs),
    end: new Date(target.interval.endMs),
  };
  const bounds = timeRangeBounds(name, kind, interval, target.timeColumnType);
  const literal = (sql: string) =>
    sql.replace(/\$([12])/g, (_match, index: string) =>
      quoteSqlString(bounds.params[Number(index) - 1] ?? ''),
    );
  const column = quoteIdentifier(dialect, kind.timeColumn);
  return (
    `(SELECT * FROM ${table} WHERE ${column} >= ${literal(bounds.startSql)} ` +
    `AND ${column} < ${literal(bounds.endSql)}) AS sluice_audit_rows`
  );
}
