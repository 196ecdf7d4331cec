import { type Command, Option } from '@commander-js/extra-typings';
import { RUN_STATUSES } from '../../protocol/runs-api.js';
import type { CommandContext } from '../output.js';
import { STATE_HELP } from './state-program.js';

const FORMAT_OPTION = () =>
  new Option('-f, --format <format>', 'output format').choices(['text', 'json']);

/**
 * Registers `sluice runs` (list, `show`, `cancel`, `rerun`) and `sluice restate`. Listing and
 * showing read through the Scheduler's API when SLUICE_URL is set and from the state store
 * otherwise; the others act through the Scheduler only.
 */
export function addRunsCommands(
  program: Command<[], { project: string; debug: boolean }>,
  context: () => CommandContext,
) {
  const load = () => import('./runs-command.js');
  const control = () => import('./run-control-commands.js');

  const runs = program
    .command('runs')
    .description('list the runs the Scheduler recorded, newest first')
    .option('--env <environment>', 'only runs of this environment')
    .option('--status <status>', `only runs with this status: ${RUN_STATUSES.join(', ')}`)
    .option('-n, --limit <runs>', 'runs to list (default: 20, at most 500)')
    .addOption(FORMAT_OPTION())
    .option('--state <url>', STATE_HELP)
    .action(async (options) => (await load()).runsListCommand(context(), options));

  // Commander gives options written after a subcommand to `runs` when `runs` has them too, so
  // `show` reads --format and --state from both.
  runs
    .command('show')
    .description('show a run: what, where, who, its model results and its tasks')
    .argument('<run>', 'the run id, as sluice runs lists it')
    .addOption(FORMAT_OPTION())
    .option('--state <url>', STATE_HELP)
    .action(async (runId, options) =>
      (await load()).runsShowCommand(context(), runId, { ...runs.opts(), ...options }),
    );

  runs
    .command('cancel')
    .description('cancel a run on the Scheduler: queued tasks end, running ones are told')
    .argument('<run>', 'the run id')
    .action(async (runId) => (await control()).runsCancelCommand(context(), runId));

  runs
    .command('rerun')
    .description('run again on the Scheduler what a finished run failed; prints the new run id')
    .argument('<run>', 'the run id')
    .option('--wait', 'follow the new run to its end; exit non-zero when it fails')
    .action(async (runId, options) =>
      (await control()).runsRerunCommand(context(), runId, options),
    );

  program
    .command('restate')
    .description('evaluate models and their downstream models again over a range, on the Scheduler')
    .argument('<environment>', 'environment, such as prod')
    .option('--model <model...>', 'a model to restate; repeat for more')
    .option('-s, --start <date>', 'range start')
    .option('-e, --end <date>', 'range end; a date is inclusive')
    .action(async (environment, options) =>
      (await import('./restate-command.js')).restateCommand(context(), environment, options),
    );
}
