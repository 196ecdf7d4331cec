import { SluiceError } from '../../core/errors.js';
import { run, type WriteContext } from './write-context.js';

const SAVEPOINT = 'sluice_replace_view';

/** VIEW: replaces the view with the model's query; writes no rows. */
export async function writeView(context: WriteContext): Promise<number> {
  if (context.adapter.type === 'postgres') {
    await replacePostgresView(context);
  } else {
    await run(context, `CREATE OR REPLACE VIEW ${context.table} AS ${context.query}\n`);
  }
  return 0;
}

/**
 * PostgreSQL replaces a view in place only when its columns keep their names and types (new
 * columns may be appended). Replacing in place keeps the views that depend on it, so that is tried
 * first, behind a savepoint; when PostgreSQL refuses, the view is dropped and created again in the
 * same transaction. A view that other views depend on cannot be dropped: that case fails with
 * PostgreSQL's error naming the dependent objects.
 */
async function replacePostgresView(context: WriteContext): Promise<void> {
  await run(context, `SAVEPOINT ${SAVEPOINT}`);
  try {
    await run(context, `CREATE OR REPLACE VIEW ${context.table} AS ${context.query}\n`);
    await run(context, `RELEASE SAVEPOINT ${SAVEPOINT}`);
    return;
  } catch (error) {
    if (!(error instanceof SluiceError) || error.code !== 'engine_error') throw error;
  }
  await run(context, `ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
  await run(context, `DROP VIEW IF EXISTS ${context.table}`);
  await run(context, `CREATE VIEW ${context.table} AS ${context.query}\n`);
}
