import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../output.js';
import {
  stateBackupCommand,
  stateMigrateCommand,
  stateRekeyCommand,
  stateRestoreCommand,
  stateStatusCommand,
  stateVerifyCommand,
} from './state-command.js';

export const STATE_HELP =
  'state location: sqlite:///path/state.db or postgres://... ' +
  '(default: SLUICE_STATE_URL, else .sluice/state.db in the project)';

/** Registers `sluice state ...`; each subcommand takes --state and --backup-dir. */
export function addStateCommands(
  program: Command<[], { project: string; debug: boolean }>,
  context: () => CommandContext,
) {
  const state = program
    .command('state')
    .description('inspect, migrate, back up, restore and rekey the state store');

  const withOptions = (name: string, description: string) =>
    state
      .command(name)
      .description(description)
      .option('--state <url>', STATE_HELP)
      .option(
        '--backup-dir <dir>',
        'backup folder (default: SLUICE_BACKUP_DIR, else .sluice/backups)',
      );

  withOptions('status', 'show the state location, keys and migrations').action((options) =>
    stateStatusCommand(context(), options),
  );
  withOptions('migrate', 'apply pending migrations, each after a verified backup').action(
    (options) => stateMigrateCommand(context(), options),
  );
  withOptions('backup', 'write a verified backup now').action((options) =>
    stateBackupCommand(context(), options),
  );
  withOptions('verify', 'check a backup file')
    .argument('<file>', 'backup file')
    .action((file, options) => stateVerifyCommand(context(), file, options));
  withOptions('restore', 'replace the state with a verified backup')
    .argument('<file>', 'backup file')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((file, options) => stateRestoreCommand(context(), file, options));
  withOptions('rekey', 'rewrap every encrypted payload with the active key')
    .option('--new-key', 'first add a new active key to the generated key file')
    .action((options) => stateRekeyCommand(context(), options));
}
