import { SluiceError } from '../../core/errors.js';
import type { EngineAdapter, TableName } from '../../engines/engine-adapter.js';
import type { PromoteTask } from '../../protocol/task.js';

/**
 * Turns a failed statement of a promotion into an error that names the environment, the view
 * and what to do. The promotion ran in one transaction, so whatever failed, the environment keeps
 * the views it had, and the messages say so.
 */

/** The statement a promotion was running: which view, and what it was doing to it. */
export type PromoteStep =
  | { readonly action: 'replace' | 'recreate'; readonly view: TableName; readonly table: TableName }
  | { readonly action: 'drop'; readonly view: TableName };

/** PostgreSQL's SQLSTATE for "cannot drop ... because other objects depend on it". */
const DEPENDENT_OBJECTS_EXIST = '2BP01';
/** PostgreSQL's SQLSTATE for "out of shared memory", which a full lock table raises. */
const OUT_OF_SHARED_MEMORY = '53200';

const UNCHANGED = 'nothing was changed: the environment keeps its previous views';

/** The error to report for `error`, thrown while `step` of promoting `task` ran. */
export async function promotionFailure(
  adapter: EngineAdapter,
  task: PromoteTask,
  step: PromoteStep | undefined,
  error: unknown,
): Promise<unknown> {
  if (!(error instanceof SluiceError) || error.code === 'query_cancelled') return error;
  if (step === undefined) return error;

  if (sqlStateOf(error) === DEPENDENT_OBJECTS_EXIST && step.action !== 'replace') {
    const dependents = await dependentsOf(adapter, step.view).catch(() => []);
    return viewInUse(adapter, task.environment, step, dependents, error);
  }
  return new SluiceError(
    error.code,
    `Environment '${task.environment}' was not promoted: ${describeStep(adapter, step)} failed ` +
      `(${error.message}); ${fixFor(task, error)}; ${UNCHANGED}`,
    { cause: error, retryable: error.retryable },
  );
}

function fixFor(task: PromoteTask, error: SluiceError): string {
  if (error.code === 'table_missing') {
    return "the version's table is missing: apply the plan again so that its tables are created";
  }
  if (sqlStateOf(error) === OUT_OF_SHARED_MEMORY) {
    // Each view takes a lock on itself and one on its table until commit; PostgreSQL's shared
    // lock table holds max_locks_per_transaction × (max_connections + max_prepared_transactions).
    const locks = 2 * (task.views.length + task.dropViews.length);
    return (
      `promoting ${task.views.length} views in one transaction takes about ${locks} locks: ` +
      "raise PostgreSQL's max_locks_per_transaction (then restart it) and promote again"
    );
  }
  return 'correct the cause and promote again';
}

function describeStep(adapter: EngineAdapter, step: PromoteStep): string {
  const view = adapter.quoteTable(step.view);
  switch (step.action) {
    case 'replace':
      return `pointing view ${view} at table ${adapter.quoteTable(step.table)}`;
    case 'recreate':
      return `dropping view ${view} to create it again over ${adapter.quoteTable(step.table)}`;
    case 'drop':
      return `dropping view ${view}`;
  }
}

/**
 * Something a user built on an environment's view stops the view from being dropped. Views of the
 * virtual layer select from physical tables only, so such an object is never Sluice's own.
 */
function viewInUse(
  adapter: EngineAdapter,
  environment: string,
  step: PromoteStep,
  dependents: readonly TableName[],
  error: SluiceError,
): SluiceError {
  const view = adapter.quoteTable(step.view);
  const why =
    step.action === 'drop'
      ? 'must be dropped because its model left the environment'
      : 'must be dropped and created again because the columns of its table changed';
  const names = dependents.map((table) => adapter.quoteTable(table)).join(', ');
  const users = `other objects depend on it${names === '' ? '' : ` (${names})`}`;
  return new SluiceError(
    'engine_error',
    `Environment '${environment}' was not promoted: view ${view} ${why}, but ${users}; drop ` +
      `those objects (or make them read the physical table instead), promote again, then create ` +
      `them again over the new view; ${UNCHANGED}`,
    { cause: error },
  );
}

/** The views and materialized views whose query reads `view` (PostgreSQL). */
async function dependentsOf(adapter: EngineAdapter, view: TableName): Promise<TableName[]> {
  if (adapter.type !== 'postgres') return [];
  const result = await adapter.query(
    'SELECT DISTINCT dn.nspname AS schema_name, dc.relname AS relation_name ' +
      'FROM pg_catalog.pg_depend d ' +
      'JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid ' +
      'JOIN pg_catalog.pg_class dc ON dc.oid = r.ev_class ' +
      'JOIN pg_catalog.pg_namespace dn ON dn.oid = dc.relnamespace ' +
      "WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass " +
      "AND d.refclassid = 'pg_catalog.pg_class'::regclass " +
      'AND d.refobjid = to_regclass($1) AND dc.oid <> d.refobjid ' +
      'ORDER BY 1, 2',
    [adapter.quoteTable(view)],
  );
  return result.rows.map((row) => ({
    schema: String(row.schema_name),
    name: String(row.relation_name),
  }));
}

/** The SQLSTATE an engine error carries in its cause, when the engine reports one. */
function sqlStateOf(error: SluiceError): string | undefined {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
