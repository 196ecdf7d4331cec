import { Command, Option } from '@commander-js/extra-typings';
import { addLogCostCommands } from './commands/log-cost-program.js';
import { addRunsCommands } from './commands/runs-program.js';
import { addServiceCommands } from './commands/service-program.js';
import { addSettingsCommands } from './commands/settings-program.js';
import { addStateCommands, STATE_HELP } from './commands/state-program.js';
import { createLogger } from './logging.js';
import { type Output, reportError } from './output.js';

const VERSION = '0.1.0';

/**
 * Builds the `sluice` command line; every command acts on --project DIR or the current folder.
 * Each command imports its module when it runs, so that starting the CLI loads only what the
 * chosen command needs (the engines, the state store and the parsers are large).
 */
export function buildProgram(output: Output, exit: { code: number } = { code: 0 }) {
  const program = new Command('sluice')
    .description('Sluice: versioned SQL models, virtual environments and scheduled runs')
    .version(VERSION)
    .option('-p, --project <dir>', 'project folder (default: the current folder)', '.')
    .option('--debug', 'print stack traces with errors', false)
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => output.stdout.write(text),
      writeErr: (text) => output.stderr.write(text),
    })
    .exitOverride();

  program
    .command('init')
    .description('create a new project with a seed and two models')
    .argument('[dir]', 'folder to create the project in', '.')
    .action(async (dir) => (await import('./commands/init-command.js')).initCommand(dir, output));

  program
    .command('render')
    .description('print the SQL a model runs for an interval, macros expanded')
    .argument('<model>', 'model name, such as shop.orders')
    .option('-s, --start <date>', 'interval start (default: yesterday, UTC)')
    .option('-e, --end <date>', 'interval end; a date is inclusive (default: the start day)')
    .option('--execution-time <time>', 'value of @execution_* (default: now)')
    .action(async (model, options) =>
      (await import('./commands/render-command.js')).renderCommand(
        contextOf(program, output, exit),
        model,
        options,
      ),
    );

  program
    .command('evaluate')
    .description("run a model's query for an interval and print its rows, writing nothing")
    .argument('<model>', 'model name, such as shop.orders')
    .option('-s, --start <date>', 'interval start (default: yesterday, UTC)')
    .option('-e, --end <date>', 'interval end; a date is inclusive (default: the start day)')
    .option('--execution-time <time>', 'value of @execution_* (default: now)')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv']),
    )
    .option('-n, --limit <rows>', 'rows to print; 0 prints all (default: 100)')
    .option('-g, --gateway <name>', 'gateway to run on (default: default_gateway)')
    .action(async (model, options) =>
      (await import('./commands/evaluate-command.js')).evaluateCommand(
        contextOf(program, output, exit),
        model,
        options,
      ),
    );

  program
    .command('dag')
    .description('print the models in dependency order')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'dot', 'json'])
        .default('text'),
    )
    .action(async (options) =>
      (await import('./commands/dag-command.js')).dagCommand(
        contextOf(program, output, exit),
        options.format,
      ),
    );

  program
    .command('run')
    .description('evaluate what is due now, models in dependency order')
    .argument('[environment]', 'environment to run', 'prod')
    .option('-c, --concurrency <tasks>', 'tasks run at once (default: 4)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']))
    .option('--state <url>', STATE_HELP)
    .action(async (environment, options) =>
      (await import('./commands/run-command.js')).runCommand(
        contextOf(program, output, exit),
        environment,
        options,
      ),
    );

  program
    .command('plan')
    .description('compare the project with an environment, show the changes, and apply them')
    .argument('[environment]', 'environment to plan (a new one starts from prod)', 'prod')
    .option('-s, --start <date>', 'limit the backfill of a development environment: start')
    .option('-e, --end <date>', 'limit the backfill of a development environment: end (inclusive)')
    .option('--forward-only', 'keep existing tables: changes apply to new intervals only')
    .option('--restate-model <model...>', 'recompute the intervals of these models and downstream')
    .option('--skip-backfill', 'create tables and promote without evaluating intervals')
    .option('--select-model <model...>', 'plan changes to these models and downstream only')
    .option('--auto-apply', 'apply without asking')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']))
    .option('--state <url>', STATE_HELP)
    .action(async (environment, options) =>
      (await import('./commands/plan-command.js')).planCommand(
        contextOf(program, output, exit),
        environment,
        options,
      ),
    );

  program
    .command('audit')
    .description("run models' audits by hand over an interval")
    .argument('[model]', 'model to audit (default: every model of the environment)')
    .option('-s, --start <date>', 'interval start (default: yesterday, UTC)')
    .option('-e, --end <date>', 'interval end; a date is inclusive (default: the start day)')
    .option('--env <environment>', 'environment whose versions to audit (default: prod)')
    .option('--state <url>', STATE_HELP)
    .action(async (model, options) =>
      (await import('./commands/audit-command.js')).auditCommand(
        contextOf(program, output, exit),
        model,
        options,
      ),
    );

  program
    .command('apply')
    .description('apply a plan made by sluice plan')
    .argument('<plan>', 'the plan id that sluice plan printed')
    .option('--state <url>', STATE_HELP)
    .action(async (plan, options) =>
      (await import('./commands/apply-command.js')).applyCommand(
        contextOf(program, output, exit),
        plan,
        options,
      ),
    );

  program
    .command('rollback')
    .description('point an environment back at the versions it held before its last promotion')
    .argument('<environment>', 'environment to roll back')
    .option('--state <url>', STATE_HELP)
    .action(async (environment, options) =>
      (await import('./commands/rollback-command.js')).rollbackCommand(
        contextOf(program, output, exit),
        environment,
        options,
      ),
    );

  const environments = program
    .command('environments')
    .description('list the environments')
    .option('--state <url>', STATE_HELP)
    .action(async (options) =>
      (await import('./commands/environment-commands.js')).environmentsCommand(
        contextOf(program, output, exit),
        options,
      ),
    );

  program
    .command('invalidate')
    .description('make a development environment expire now')
    .argument('<environment>', 'environment to invalidate')
    .option('--state <url>', STATE_HELP)
    .action(async (environment, options) =>
      (await import('./commands/environment-commands.js')).invalidateCommand(
        contextOf(program, output, exit),
        environment,
        options,
      ),
    );

  program
    .command('table-name')
    .description("print the physical table behind a model's view")
    .argument('<model>', 'model name, such as shop.orders')
    .option('--env <environment>', 'environment (default: prod)')
    .option('--state <url>', STATE_HELP)
    .action(async (model, options) =>
      (await import('./commands/environment-commands.js')).tableNameCommand(
        contextOf(program, output, exit),
        model,
        options,
      ),
    );

  program
    .command('diff')
    .description('show how an environment differs from another (default: prod)')
    .argument('<environment>', 'environment to compare')
    .option('--against <environment>', 'environment to compare with (default: prod)')
    .option('--state <url>', STATE_HELP)
    .action(async (environment, options) =>
      (await import('./commands/environment-commands.js')).diffCommand(
        contextOf(program, output, exit),
        environment,
        options,
      ),
    );

  program
    .command('intervals')
    .description("show a model's processed and missing intervals")
    .argument('<model>', 'model name, such as shop.orders')
    .option('--env <environment>', 'environment whose version to show (default: prod)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']))
    .option('--state <url>', STATE_HELP)
    .action(async (model, options) =>
      (await import('./commands/intervals-command.js')).intervalsCommand(
        contextOf(program, output, exit),
        model,
        options,
      ),
    );

  program
    .command('janitor')
    .description("drop expired environments' views and tables no environment has used for a while")
    .option('--dry-run', 'print what would be dropped and change nothing')
    .option('--state <url>', STATE_HELP)
    .action(async (options) =>
      (await import('./commands/janitor-command.js')).janitorCommand(
        contextOf(program, output, exit),
        options,
      ),
    );

  addStateCommands(program, () => contextOf(program, output, exit));
  addServiceCommands(program, () => contextOf(program, output, exit));
  addSettingsCommands(program, environments, () => contextOf(program, output, exit));
  addLogCostCommands(program, () => contextOf(program, output, exit));
  addRunsCommands(program, () => contextOf(program, output, exit));

  return program;
}

function contextOf(
  program: { opts(): { project: string; debug: boolean } },
  output: Output,
  exit: { code: number },
) {
  const { project, debug } = program.opts();
  return {
    projectDir: project,
    output,
    logger: createLogger('cli', debug),
    setExitCode: (code: number) => {
      exit.code = code;
    },
  };
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: readonly string[], output: Output = process): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(output, exit);
  try {
    await program.parseAsync([...argv]);
    return exit.code;
  } catch (error) {
    if (isCommanderExit(error)) return error.exitCode;
    return reportError(output, error, program.opts().debug === true || argv.includes('--debug'));
  }
}

function isCommanderExit(error: unknown): error is { exitCode: number; code: string } {
  return typeof error === 'object' && error !== null && 'exitCode' in error && 'code' in error;
}
