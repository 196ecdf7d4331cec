import { SluiceError } from '../../core/errors.js';
import type { TableName } from '../../core/table-resolver.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import type { CleanupTask, DropTarget } from '../../protocol/task.js';

/** What a cleanup did: how many views and tables it dropped (or found already gone). */
export type CleanupResult = { readonly dropped: number };

/** One drop that failed, with the object it named. */
type FailedDrop = { readonly target: DropTarget; readonly error: unknown };

/**
 * Drops a cleanup task's objects: views first (an environment's view, or a VIEW model's physical
 * view, may select from a table of the same task), then tables, each statement on its own with
 * `IF EXISTS`, so a repeated task does no harm. A failed drop does not stop the others; once all
 * ran, the failures are thrown as one error naming each object, so the task fails and its caller
 * records nothing. Last, the schemas of dropped objects that Sluice made (names holding `__`:
 * `sluice__<schema>` and `<schema>__<env>`) are dropped when nothing is left in them; a schema
 * drop that fails (something appeared in it meanwhile) is left for a later cleanup.
 */
export async function runCleanup(
  adapter: EngineAdapter,
  task: CleanupTask,
  signal?: AbortSignal,
): Promise<CleanupResult> {
  const ordered = [
    ...task.drops.filter((target) => target.isView),
    ...task.drops.filter((target) => !target.isView),
  ];
  const failures: FailedDrop[] = [];
  for (const target of ordered) {
    try {
      await adapter.execute(dropStatement(adapter, target), [], signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted === true) throw error;
      failures.push({ target, error });
    }
  }

  const failedSchemas = new Set(failures.map((failure) => failure.target.table.schema));
  await dropEmptySchemas(adapter, ordered, failedSchemas);

  if (failures.length > 0) throw cleanupFailure(failures, ordered.length);
  return { dropped: ordered.length };
}

function dropStatement(adapter: EngineAdapter, target: DropTarget): string {
  const what = target.isView ? 'VIEW' : 'TABLE';
  return `DROP ${what} IF EXISTS ${adapter.quoteTable(target.table)}`;
}

/** Drops each Sluice-made schema of the dropped objects that holds no table or view now. */
async function dropEmptySchemas(
  adapter: EngineAdapter,
  dropped: readonly DropTarget[],
  skipped: ReadonlySet<string>,
): Promise<void> {
  const schemas = new Set(dropped.map((target) => target.table.schema));
  for (const schema of schemas) {
    if (skipped.has(schema) || !isSluiceSchema(schema)) continue;
    try {
      if ((await adapter.listTables(schema)).length > 0) continue;
      // Without CASCADE both engines refuse to drop a schema that is not empty.
      await adapter.execute(`DROP SCHEMA IF EXISTS ${adapter.quoteIdentifier(schema)}`);
    } catch {
      // Best effort: a schema that gained an object meanwhile stays, and is harmless.
    }
  }
}

function isSluiceSchema(schema: string): boolean {
  return schema.includes('__');
}

function cleanupFailure(failures: readonly FailedDrop[], total: number): SluiceError {
  const details = failures
    .map(({ target, error }) => `${nameOf(target.table)}: ${messageOf(error)}`)
    .join('; ');
  const first = failures[0]?.error;
  return new SluiceError(
    'engine_error',
    `Could not drop ${failures.length} of ${total} objects (${details}); the others were ` +
      'dropped. Fix the cause (an object that depends on it, or missing privileges), then run ' +
      'the janitor again',
    {
      cause: first,
      retryable: first instanceof SluiceError && first.retryable,
    },
  );
}

function nameOf(table: TableName): string {
  return table.schema === '' ? `'${table.name}'` : `'${table.schema}.${table.name}'`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
