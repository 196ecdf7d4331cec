import type { Kysely } from 'kysely';
import { SluiceError } from '../core/errors.js';
import { describeLocation } from './state-location.js';
import type { StateDatabase, StateStore } from './state-store.js';
import type { Migration } from './state-types.js';
import { internalsOf, type MigrationSession } from './store-internals.js';
import {
  type AppliedMigration,
  ensureVersionTable,
  readAppliedMigrations,
  recordMigration,
} from './version-table.js';

/**
 * Applies numbered, forward-only migrations. Each runs in its own transaction together with its
 * version row, on a private connection that holds the migration lock (see StoreInternals), and
 * each transaction re-reads the version table first, so a migration that another process applied
 * meanwhile is never applied twice.
 */

/** What a migration run did. */
export type MigrationReport = {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly applied: readonly Migration[];
};

/** One line of `sluice state status`. */
export type MigrationStatus = {
  readonly version: number;
  readonly name: string;
  readonly appliedAt: string | undefined;
};

/** Called before the first pending migration, inside the lock; a rejection stops the run. */
export type BeforeMigrate = (store: StateStore, pending: readonly Migration[]) => Promise<void>;

/** Checks that versions are positive, distinct integers, and sorts the migrations by them. */
export function orderMigrations(migrations: readonly Migration[]): readonly Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((migration, index) => {
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new SluiceError('internal', `Migration '${migration.name}' has an invalid version`);
    }
    if (sorted[index - 1]?.version === migration.version) {
      throw new SluiceError('internal', `Two migrations have version ${migration.version}`);
    }
  });
  return sorted;
}

/** Applies the pending migrations under the lock; returns what was applied. */
export async function migrateStore(
  store: StateStore,
  migrations: readonly Migration[],
  beforeMigrate?: BeforeMigrate,
): Promise<MigrationReport> {
  const internals = internalsOf(store);
  const report = await internals.withMigrationSession(async (session) => {
    await session.transaction(ensureVersionTable);
    return applyPending(store, session, migrations, beforeMigrate);
  });
  internals.setKnownVersion(report.toVersion);
  return report;
}

/** Reads the schema version and refuses a database this build cannot use. */
export async function checkStoreVersion(
  store: StateStore,
  migrations: readonly Migration[],
): Promise<number> {
  const applied = await readAppliedMigrations(store.db, store.backend);
  checkApplied(store, applied, migrations);
  const version = highestVersion(applied);
  internalsOf(store).setKnownVersion(version);
  return version;
}

/** Every migration this build knows, and any the database records beyond them, by version. */
export async function migrationStatus(
  store: StateStore,
  migrations: readonly Migration[],
): Promise<MigrationStatus[]> {
  const applied = await readAppliedMigrations(store.db, store.backend);
  const appliedAt = new Map(applied.map((row) => [row.version, row.appliedAt]));
  const known = new Set(migrations.map((migration) => migration.version));

  const lines = migrations.map((migration) => ({
    version: migration.version,
    name: migration.name,
    appliedAt: appliedAt.get(migration.version),
  }));
  const unknown = applied.filter((row) => !known.has(row.version));
  return [...lines, ...unknown].sort((a, b) => a.version - b.version);
}

async function applyPending(
  store: StateStore,
  session: MigrationSession,
  migrations: readonly Migration[],
  beforeMigrate: BeforeMigrate | undefined,
): Promise<MigrationReport> {
  const applied: Migration[] = [];
  let fromVersion: number | undefined;
  for (;;) {
    const step = await session.transaction(async (db) => {
      const rows = await readAppliedMigrations(db, store.backend);
      checkApplied(store, rows, migrations);
      const version = highestVersion(rows);
      internalsOf(store).setKnownVersion(version);
      const pending = migrations.filter((migration) => migration.version > version);
      const next = pending[0];
      if (next === undefined) return { version, next };

      if (fromVersion === undefined) await runBeforeMigrate(store, pending, version, beforeMigrate);
      await applyOne(db, store, next, version);
      return { version, next };
    });

    fromVersion ??= step.version;
    if (step.next === undefined) return { fromVersion, toVersion: step.version, applied };
    applied.push(step.next);
  }
}

async function runBeforeMigrate(
  store: StateStore,
  pending: readonly Migration[],
  version: number,
  beforeMigrate: BeforeMigrate | undefined,
): Promise<void> {
  if (beforeMigrate === undefined) return;
  try {
    await beforeMigrate(store, pending);
  } catch (error) {
    const code = error instanceof SluiceError ? error.code : 'state_error';
    throw new SluiceError(
      code,
      `${reasonOf(error)}; nothing was migrated, the state database stays at schema version ` +
        `${version}`,
      { cause: error },
    );
  }
}

async function applyOne(
  db: Kysely<StateDatabase>,
  store: StateStore,
  migration: Migration,
  version: number,
): Promise<void> {
  try {
    // Migrations see an untyped database: they create the tables that StateDatabase describes.
    await migration.up(db as unknown as Kysely<unknown>, store.backend);
    await recordMigration(db, migration);
  } catch (error) {
    throw new SluiceError(
      'state_error',
      `Migration ${migration.version} '${migration.name}' of the state database failed ` +
        `(${reasonOf(error)}); it was rolled back and the database stays at schema version ` +
        `${version}; fix the cause and run \`sluice state migrate\` again`,
      { cause: error },
    );
  }
}

/** Refuses a database newer than this build, or one whose applied versions have gaps. */
function checkApplied(
  store: StateStore,
  applied: readonly AppliedMigration[],
  migrations: readonly Migration[],
): void {
  const highestKnown = migrations.at(-1)?.version ?? 0;
  const version = highestVersion(applied);
  if (version > highestKnown) {
    throw new SluiceError(
      'state_too_new',
      `The state database ${describeLocation(store.location)} is at schema version ${version}, ` +
        `newer than this Sluice (which knows up to ${highestKnown}); upgrade Sluice or restore ` +
        'a backup taken before the upgrade',
    );
  }

  const appliedVersions = new Set(applied.map((row) => row.version));
  const knownVersions = new Set(migrations.map((migration) => migration.version));
  const unknown = applied.find((row) => !knownVersions.has(row.version));
  if (unknown !== undefined) throw unknownMigration(store, unknown);
  const skipped = migrations.find((m) => m.version < version && !appliedVersions.has(m.version));
  if (skipped !== undefined) throw skippedMigration(store, skipped, version);
}

function unknownMigration(store: StateStore, row: AppliedMigration): SluiceError {
  return new SluiceError(
    'state_error',
    `The state database ${describeLocation(store.location)} records migration ${row.version} ` +
      `'${row.name}', which this Sluice does not know; it was written by another build of ` +
      'Sluice: use that build, or restore a backup taken before it ran',
  );
}

function skippedMigration(store: StateStore, skipped: Migration, version: number): SluiceError {
  return new SluiceError(
    'state_error',
    `The state database ${describeLocation(store.location)} is at schema version ${version} ` +
      `but migration ${skipped.version} '${skipped.name}' was never applied to it; its version ` +
      'table was changed outside Sluice: restore a backup',
  );
}

function highestVersion(applied: readonly AppliedMigration[]): number {
  return applied.reduce((highest, row) => Math.max(highest, row.version), 0);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
