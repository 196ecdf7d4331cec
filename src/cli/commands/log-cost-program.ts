import { type Command, Option } from '@commander-js/extra-typings';
import { COST_GROUPINGS } from '../../protocol/cost-api.js';
import type { CommandContext } from '../output.js';
import { STATE_HELP } from './state-program.js';

const FORMAT_OPTION = () =>
  new Option('-f, --format <format>', 'output format').choices(['text', 'json']);

/**
 * Registers `sluice logs` and `sluice cost`, which read through the Scheduler's API when
 * SLUICE_URL is set and from the state store otherwise.
 */
export function addLogCostCommands(
  program: Command<[], { project: string; debug: boolean }>,
  context: () => CommandContext,
) {
  program
    .command('logs')
    .description('print the log lines of a task or a run, by level and text')
    .option('--task <id>', "the task whose lines to print (every attempt's unless --attempt)")
    .option('--run <id>', 'the lines of every task of this run')
    .option('--level <level>', 'only lines at this level or above: debug, info, warn, error')
    .option('--grep <text>', 'only lines holding this text, whatever its case')
    .option('--attempt <n>', "only this attempt's lines (with --task)")
    .option('-n, --limit <lines>', 'lines to print (default: 1000)')
    .option('--newest', 'newest lines first')
    .option('--after <position>', 'continue where an earlier call stopped')
    .addOption(FORMAT_OPTION())
    .option('--state <url>', STATE_HELP)
    .action(async (options) => (await import('./logs-command.js')).logsCommand(context(), options));

  program
    .command('cost')
    .description('print what task attempts cost per model, run or environment')
    .addOption(
      new Option('--by <grouping>', 'group by model (default), run or environment').choices(
        COST_GROUPINGS,
      ),
    )
    .option('--environment <name>', "only this environment's attempts; adds the cost it avoided")
    .option('--since <time>', 'only attempts priced from this ISO 8601 date or time on')
    .option('--until <time>', 'only attempts priced before this ISO 8601 date or time')
    .addOption(FORMAT_OPTION())
    .option('--state <url>', STATE_HELP)
    .action(async (options) => (await import('./cost-command.js')).costCommand(context(), options));
}
