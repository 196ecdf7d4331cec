import type { Migration } from '../state-types.js';
import { storeMigration } from './001-store.js';
import { versionsMigration } from './002-versions.js';
import { environmentsMigration } from './003-environments.js';
import { unusedVersionsMigration } from './004-unused-versions.js';
import { authMigration } from './005-auth.js';
import { taskQueueMigration } from './006-task-queue.js';
import { runsMigration } from './007-runs.js';

/** The state store's migrations, in order; a new one is appended with the next version. */
export const STATE_MIGRATIONS: readonly Migration[] = [
  storeMigration,
  versionsMigration,
  environmentsMigration,
  unusedVersionsMigration,
  authMigration,
  taskQueueMigration,
  runsMigration,
];
