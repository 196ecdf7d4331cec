import type { Kysely } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration, StateBackend } from '../state-types.js';
import { bytesType } from './column-types.js';

/**
 * What the Scheduler keeps about the work it coordinates:
 * - runs (plan applies, cadence runs, runs asked for by hand), with the Scheduler that coordinates
 *   each and when it last said so, so that a run whose Scheduler died is seen as abandoned; their
 *   results and their progress events are encrypted (error messages may quote data);
 * - per-environment settings: whether a development environment takes part in the cadence, and
 *   whether the environment is paused; and the models paused in an environment (with their
 *   downstream models, which are found when a run starts);
 * - the price of every finished task attempt, with the version it built, for totals per model,
 *   run and environment and the cost avoided by reusing versions.
 * Environments gain the project, gateway and engine their last plan was applied with, which
 * the Scheduler's own runs of them need. Tasks gain the version they build and the range their
 * success completes for it (recorded in the completion's own transaction, so that an interval
 * done is recorded even when the Scheduler that coordinated its run is gone), and task logs an
 * index for pruning by age.
 */
export const runsMigration: Migration = {
  version: 7,
  name: 'runs',
  encryptedColumns: [
    { table: 'sluice_runs', column: 'summary', idColumn: 'id' },
    { table: 'sluice_run_events', column: 'event', idColumn: 'id' },
  ],
  async up(untyped, backend) {
    const db = untyped as Kysely<StateDatabase>;
    await createRuns(db, backend);
    await createSettings(db);
    await createCosts(db);

    for (const column of ['project_name', 'gateway', 'engine']) {
      await db.schema.alterTable('sluice_environments').addColumn(column, 'text').execute();
    }
    await db.schema.alterTable('sluice_tasks').addColumn('version_id', 'text').execute();
    for (const column of ['record_start_ms', 'record_end_ms']) {
      await db.schema.alterTable('sluice_tasks').addColumn(column, 'bigint').execute();
    }
    await db.schema
      .createIndex('sluice_task_logs_received')
      .on('sluice_task_logs')
      .column('received_at_ms')
      .execute();
  },
};

async function createRuns(db: Kysely<StateDatabase>, backend: StateBackend): Promise<void> {
  await db.schema
    .createTable('sluice_runs')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('environment', 'text', (column) => column.notNull())
    .addColumn('pool', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('plan_id', 'text')
    .addColumn('requested_by', 'text', (column) => column.notNull())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('owner_seen_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('is_cancel_requested', 'integer', (column) => column.notNull())
    .addColumn('created_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('finished_at_ms', 'bigint')
    .addColumn('summary', bytesType(backend))
    .execute();
  await db.schema
    .createIndex('sluice_runs_environment')
    .on('sluice_runs')
    .columns(['environment', 'created_at_ms'])
    .execute();
  await db.schema.createIndex('sluice_runs_status').on('sluice_runs').column('status').execute();

  // `id` is '<run id>/<seq>'.
  await db.schema
    .createTable('sluice_run_events')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('run_id', 'text', (column) => column.notNull())
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('created_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('event', bytesType(backend), (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('sluice_run_events_run')
    .on('sluice_run_events')
    .columns(['run_id', 'seq'])
    .execute();
}

async function createSettings(db: Kysely<StateDatabase>): Promise<void> {
  await db.schema
    .createTable('sluice_environment_settings')
    .addColumn('environment', 'text', (column) => column.primaryKey())
    .addColumn('is_cadence', 'integer', (column) => column.notNull())
    .addColumn('is_paused', 'integer', (column) => column.notNull())
    .addColumn('updated_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('updated_by', 'text', (column) => column.notNull())
    .execute();

  // `id` is '<environment>/<model name>'.
  await db.schema
    .createTable('sluice_paused_models')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('environment', 'text', (column) => column.notNull())
    .addColumn('model_name', 'text', (column) => column.notNull())
    .addColumn('paused_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('paused_by', 'text', (column) => column.notNull())
    .execute();
}

async function createCosts(db: Kysely<StateDatabase>): Promise<void> {
  // `id` is '<task id>/<epoch>', the attempt priced. `cost` is in the rate's currency; null when
  // no rate was configured for the gateway (the usage is still kept).
  await db.schema
    .createTable('sluice_task_costs')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('task_id', 'text', (column) => column.notNull())
    .addColumn('run_id', 'text', (column) => column.notNull())
    .addColumn('environment', 'text')
    .addColumn('model_name', 'text')
    .addColumn('version_id', 'text')
    .addColumn('gateway', 'text', (column) => column.notNull())
    .addColumn('attempt', 'integer', (column) => column.notNull())
    .addColumn('duration_ms', 'bigint', (column) => column.notNull())
    .addColumn('bytes_scanned', 'bigint')
    .addColumn('rows_written', 'bigint')
    .addColumn('rate_kind', 'text')
    .addColumn('currency', 'text')
    .addColumn('cost', 'double precision')
    .addColumn('priced_at_ms', 'bigint', (column) => column.notNull())
    .execute();
  for (const column of ['run_id', 'version_id', 'model_name'] as const) {
    await db.schema
      .createIndex(`sluice_task_costs_${column}`)
      .on('sluice_task_costs')
      .column(column)
      .execute();
  }
  await db.schema
    .createIndex('sluice_task_costs_environment')
    .on('sluice_task_costs')
    .columns(['environment', 'priced_at_ms'])
    .execute();
}
