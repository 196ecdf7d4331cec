import type { Kysely } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration, StateBackend } from '../state-types.js';
import { bytesType } from './column-types.js';

/**
 * The task queue Executors pull from: tasks with their definitions encrypted, the dependencies
 * between them, every claim of a task (its owner, epoch and how it ended, with the answer to its
 * completion so that a replay gets the same one), log batches, and the Executors that said hello.
 */
export const taskQueueMigration: Migration = {
  version: 6,
  name: 'task-queue',
  encryptedColumns: [
    { table: 'sluice_tasks', column: 'definition', idColumn: 'id' },
    { table: 'sluice_task_attempts', column: 'completion', idColumn: 'id' },
    { table: 'sluice_task_logs', column: 'lines', idColumn: 'id' },
  ],
  async up(untyped, backend) {
    const db = untyped as Kysely<StateDatabase>;
    await createTasks(db, backend);
    await createAttempts(db, backend);
    await createLogs(db, backend);

    await db.schema
      .createTable('sluice_executors')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('client_id', 'text', (column) => column.notNull())
      .addColumn('pools', 'text', (column) => column.notNull())
      .addColumn('slots', 'integer', (column) => column.notNull())
      .addColumn('protocol_version', 'integer', (column) => column.notNull())
      .addColumn('agent', 'text', (column) => column.notNull())
      .addColumn('started_at_ms', 'bigint', (column) => column.notNull())
      .addColumn('last_seen_at_ms', 'bigint', (column) => column.notNull())
      .execute();
  },
};

async function createTasks(db: Kysely<StateDatabase>, backend: StateBackend): Promise<void> {
  await db.schema
    .createTable('sluice_tasks')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('run_id', 'text', (column) => column.notNull())
    .addColumn('pool', 'text', (column) => column.notNull())
    .addColumn('priority', 'integer', (column) => column.notNull())
    .addColumn('environment', 'text')
    .addColumn('gateway', 'text', (column) => column.notNull())
    .addColumn('model_name', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('attempt', 'integer', (column) => column.notNull())
    .addColumn('max_attempts', 'integer', (column) => column.notNull())
    .addColumn('epoch', 'integer', (column) => column.notNull())
    .addColumn('owner', 'text')
    .addColumn('executor_id', 'text')
    .addColumn('lease_expires_at_ms', 'bigint')
    .addColumn('ready_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('is_cancel_requested', 'integer', (column) => column.notNull())
    .addColumn('created_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('finished_at_ms', 'bigint')
    .addColumn('definition', bytesType(backend), (column) => column.notNull())
    .execute();
  // The claim reads ready tasks of a pool in priority order; the reaper reads leased ones.
  await db.schema
    .createIndex('sluice_tasks_claim')
    .on('sluice_tasks')
    .columns(['status', 'pool', 'priority', 'ready_at_ms', 'id'])
    .execute();
  await db.schema
    .createIndex('sluice_tasks_lease')
    .on('sluice_tasks')
    .columns(['status', 'lease_expires_at_ms'])
    .execute();
  await db.schema.createIndex('sluice_tasks_run').on('sluice_tasks').column('run_id').execute();

  await db.schema
    .createTable('sluice_task_dependencies')
    .addColumn('task_id', 'text', (column) => column.notNull())
    .addColumn('upstream_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('sluice_task_dependencies_pk', ['task_id', 'upstream_id'])
    .execute();
  await db.schema
    .createIndex('sluice_task_dependencies_upstream')
    .on('sluice_task_dependencies')
    .column('upstream_id')
    .execute();
}

async function createAttempts(db: Kysely<StateDatabase>, backend: StateBackend): Promise<void> {
  // One row per claim: `id` is '<task id>/<epoch>'. `completion` holds the outcome reported and
  // the answer given, under the Idempotency-Key it came with.
  await db.schema
    .createTable('sluice_task_attempts')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('task_id', 'text', (column) => column.notNull())
    .addColumn('epoch', 'integer', (column) => column.notNull())
    .addColumn('attempt', 'integer', (column) => column.notNull())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('executor_id', 'text', (column) => column.notNull())
    .addColumn('claimed_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('ended_at_ms', 'bigint')
    .addColumn('ended_as', 'text')
    .addColumn('completion_key', 'text')
    .addColumn('completion', bytesType(backend))
    .execute();
  await db.schema
    .createIndex('sluice_task_attempts_task')
    .on('sluice_task_attempts')
    .columns(['task_id', 'owner'])
    .execute();
}

async function createLogs(db: Kysely<StateDatabase>, backend: StateBackend): Promise<void> {
  // `id` is '<task id>/<epoch>/<seq>': a batch sent twice is stored once. The epoch, not the
  // attempt, names the claim: a released claim gives its attempt number back to the next one.
  await db.schema
    .createTable('sluice_task_logs')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('task_id', 'text', (column) => column.notNull())
    .addColumn('attempt', 'integer', (column) => column.notNull())
    .addColumn('epoch', 'integer', (column) => column.notNull())
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('line_count', 'integer', (column) => column.notNull())
    .addColumn('received_at_ms', 'bigint', (column) => column.notNull())
    .addColumn('lines', bytesType(backend), (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('sluice_task_logs_task')
    .on('sluice_task_logs')
    .columns(['task_id', 'attempt', 'epoch', 'seq'])
    .execute();
}
