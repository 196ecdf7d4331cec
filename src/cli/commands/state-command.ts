import { createInterface } from 'node:readline/promises';
import { SluiceError } from '../../core/errors.js';
import { createBackup, restoreBackup, verifyBackup } from '../../state/backup/backup.js';
import {
  generateStateKey,
  withNewActiveKey,
  writeKeyRingFile,
} from '../../state/crypto/key-ring.js';
import { STATE_MIGRATIONS } from '../../state/migrations/index.js';
import { migrationStatus } from '../../state/migrator.js';
import { rekeyState } from '../../state/rekey.js';
import { describeLocation } from '../../state/state-location.js';
import type { CommandContext } from '../output.js';
import { resolveStateContext, type StateCliOptions, type StateContext } from '../state-context.js';
import { openStore, withStore } from '../with-state.js';

/** `sluice state status`: where the state is, its keys and its migrations. */
export function stateStatusCommand(context: CommandContext, options: StateCliOptions) {
  return withStore(context, options, false, async (store, state) => {
    const out = context.output.stdout;
    out.write(`State:   ${describeLocation(state.location)}\n`);
    out.write(`Keys:    ${state.keySource} (active key ${state.keyRing.active.id}, `);
    out.write(`${state.keyRing.keys.size} in the ring)\n`);
    out.write(`Backups: ${state.backupDir}\n`);
    out.write(`Schema:  version ${await store.schemaVersion()}\n`);
    for (const migration of await migrationStatus(store, STATE_MIGRATIONS)) {
      const when = migration.appliedAt === undefined ? 'pending' : `applied ${migration.appliedAt}`;
      out.write(`  ${String(migration.version).padStart(3, '0')} ${migration.name}: ${when}\n`);
    }
  });
}

/** `sluice state migrate`: applies pending migrations, each after a verified backup. */
export function stateMigrateCommand(context: CommandContext, options: StateCliOptions) {
  return withStore(context, options, true, async (store) => {
    context.output.stdout.write(`The state is at schema version ${await store.schemaVersion()}.\n`);
  });
}

/** `sluice state backup`: writes a verified backup now. */
export function stateBackupCommand(context: CommandContext, options: StateCliOptions) {
  return withStore(context, options, true, async (store, state) => {
    const backup = await createBackup(store, { dir: state.backupDir, reason: 'manual' });
    await verifyBackup(backup.path, state.keyRing);
    context.output.stdout.write(`${backup.path}\n`);
  });
}

/** `sluice state verify FILE`: checks a backup's manifest, checksum, integrity and version. */
export async function stateVerifyCommand(
  context: CommandContext,
  file: string,
  options: StateCliOptions,
) {
  const state = await resolveStateContext(context.projectDir, options);
  const manifest = await verifyBackup(file, state.keyRing);
  const rows = Object.values(manifest.tables).reduce((sum, count) => sum + count, 0);
  context.output.stdout.write(
    `${file} is a good ${manifest.backend} backup: schema version ${manifest.schemaVersion}, ` +
      `${rows} rows, key ${manifest.keyId}, taken ${manifest.createdAt} (${manifest.reason})\n`,
  );
}

/** `sluice state restore FILE`: replaces the state with a verified backup, after confirmation. */
export function stateRestoreCommand(
  context: CommandContext,
  file: string,
  options: StateCliOptions & { readonly yes?: boolean },
) {
  return withStore(context, options, false, async (store, state) => {
    const manifest = await verifyBackup(file, state.keyRing);
    const question =
      `Replace all state in ${describeLocation(state.location)} with the backup taken ` +
      `${manifest.createdAt}? Everything written since is lost. [y/N] `;
    if (options.yes !== true && !(await confirm(question))) {
      throw new SluiceError('usage', 'Restore cancelled; nothing was changed');
    }
    await restoreBackup(store, file);
    context.output.stdout.write(`Restored the state from ${file}.\n`);
  });
}

/** `sluice state rekey [--new-key]`: rewraps every payload with the active key. */
export async function stateRekeyCommand(
  context: CommandContext,
  options: StateCliOptions & { readonly newKey?: boolean },
) {
  let state = await resolveStateContext(context.projectDir, options);
  if (options.newKey === true) state = await addActiveKey(state, context);

  const store = await openStore(state, context, true);
  try {
    const report = await rekeyState(store);
    const out = context.output.stdout;
    out.write(`Rewrapped ${report.rewrapped} payloads with key ${store.keyRing.active.id}.\n`);
    for (const [keyId, rows] of Object.entries(report.rowsByKey)) {
      out.write(`  key ${keyId}: ${rows} rows\n`);
    }
    for (const key of store.keyRing.keys.values()) {
      if (key.id !== store.keyRing.active.id && (report.rowsByKey[key.id] ?? 0) === 0) {
        out.write(`No row uses key ${key.id} any more; keep it while a backup still needs it.\n`);
      }
    }
  } finally {
    await store.close();
  }
}

/** Generates a new active key into the project's generated key file. */
async function addActiveKey(state: StateContext, context: CommandContext): Promise<StateContext> {
  if (state.keyFile === undefined) {
    throw new SluiceError(
      'usage',
      `--new-key writes only the generated key file of the embedded state; the keys come from ` +
        `${state.keySource}: add the new key there (first in the ring) and run 'sluice state rekey'`,
    );
  }
  const ring = withNewActiveKey(state.keyRing, generateStateKey());
  await writeKeyRingFile(state.keyFile, ring);
  context.output.stdout.write(
    `Added key ${ring.active.id} to ${state.keyFile} as the active key.\n`,
  );
  return { ...state, keyRing: ring };
}

async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) {
    throw new SluiceError(
      'usage',
      'Restoring replaces all state and needs confirmation; pass --yes when not on a terminal',
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}
