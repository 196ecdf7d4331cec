import type { Kysely } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration } from '../state-types.js';

/**
 * When the janitor first found a version's table unused by every live environment: the table is
 * dropped once that is older than the project's `table_ttl`, and the mark is cleared when an
 * environment uses the version again.
 */
export const unusedVersionsMigration: Migration = {
  version: 4,
  name: 'unused-versions',
  async up(untyped) {
    const db = untyped as Kysely<StateDatabase>;

    await db.schema.alterTable('sluice_versions').addColumn('unused_since', 'text').execute();
  },
};
