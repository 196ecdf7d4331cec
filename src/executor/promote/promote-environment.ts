import type { EngineAdapter, EngineSession } from '../../engines/engine-adapter.js';
import type { PromoteTask, ViewTarget } from '../../protocol/task.js';
import { viewsWithChangedColumns } from './postgres-view-columns.js';
import { type PromoteStep, promotionFailure } from './promotion-failure.js';

/** What one promotion did: views created or replaced, and views dropped (or already absent). */
export type PromoteResult = { readonly viewsReplaced: number; readonly viewsDropped: number };

/** The open transaction of one promotion, and the statement it is running. */
type Promotion = {
  readonly adapter: EngineAdapter;
  readonly session: EngineSession;
  readonly signal: AbortSignal | undefined;
  /** Which statement runs, so that a failure can name its view. */
  readonly progress: { step: PromoteStep | undefined };
};

/**
 * Points an environment's views at its versions' tables: every view becomes
 * `SELECT * FROM <table>`, and the views of models the environment no longer has are dropped.
 * No row is copied. All of it happens in one transaction, so readers see the old environment or
 * the new one, never a mix, and a failure (or an aborted signal) leaves every old view as it was.
 * On PostgreSQL a view whose table's columns changed is dropped and created again inside that
 * transaction, because PostgreSQL cannot replace such a view in place.
 *
 * On PostgreSQL each view takes two locks (itself and its table) until commit, and with the
 * default settings (`max_locks_per_transaction` 64, `max_connections` 100) the shared lock table
 * runs out at about 4,000 views, fewer while other sessions hold locks; the failure says to raise
 * `max_locks_per_transaction`. Promoting in several transactions would lift the limit but give up
 * the all-or-nothing switch, so Sluice does not.
 */
export async function promoteEnvironment(
  adapter: EngineAdapter,
  task: PromoteTask,
  signal?: AbortSignal,
): Promise<PromoteResult> {
  await createViewSchemas(adapter, task.views);

  const progress: Promotion['progress'] = { step: undefined };
  try {
    await adapter.transaction(
      (session) => replaceViews({ adapter, session, signal, progress }, task),
      { signal },
    );
  } catch (error) {
    throw await promotionFailure(adapter, task, progress.step, error);
  }
  return { viewsReplaced: task.views.length, viewsDropped: task.dropViews.length };
}

/**
 * Creates the schemas the views go in, before and apart from the transaction: created inside it,
 * a schema's catalogue row would stay locked until commit, and on PostgreSQL everything else
 * creating the same schema would wait for that commit and then fail. An empty schema may outlive
 * a failed first promotion.
 */
async function createViewSchemas(adapter: EngineAdapter, views: readonly ViewTarget[]) {
  const schemas = new Set(views.map((target) => target.view.schema));
  for (const schema of schemas) {
    if (schema !== '') await adapter.createSchema(schema);
  }
}

/** The statements of the transaction: drops, then creations and replacements. */
async function replaceViews(promotion: Promotion, task: PromoteTask): Promise<void> {
  const { adapter, session, signal, progress } = promotion;
  const recreated =
    adapter.type === 'postgres' && task.views.length > 0
      ? await viewsWithChangedColumns(session, task.views, { signal })
      : new Set<ViewTarget>();

  // Drops first: should a view be listed both ways, the environment keeps it.
  for (const view of task.dropViews) {
    progress.step = { action: 'drop', view };
    await execute(promotion, `DROP VIEW IF EXISTS ${adapter.quoteTable(view)}`);
  }
  for (const target of task.views) {
    const isRecreated = recreated.has(target);
    progress.step = { action: isRecreated ? 'recreate' : 'replace', ...target };
    if (isRecreated)
      await execute(promotion, `DROP VIEW IF EXISTS ${adapter.quoteTable(target.view)}`);
    await execute(promotion, createViewSql(adapter, target, isRecreated));
  }
  progress.step = undefined;
}

/** `CREATE [OR REPLACE] VIEW <view> AS SELECT * FROM <table>`. */
function createViewSql(adapter: EngineAdapter, target: ViewTarget, isDropped: boolean): string {
  const create = isDropped ? 'CREATE VIEW' : 'CREATE OR REPLACE VIEW';
  const view = adapter.quoteTable(target.view);
  return `${create} ${view} AS SELECT * FROM ${adapter.quoteTable(target.table)}`;
}

async function execute(promotion: Promotion, sql: string): Promise<void> {
  await promotion.session.execute(sql, [], { signal: promotion.signal });
}
