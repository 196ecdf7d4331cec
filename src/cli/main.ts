import { Command, Option } from '@commander-js/extra-typings';
import { dagCommand } from './commands/dag-command.js';
import { evaluateCommand } from './commands/evaluate-command.js';
import { initCommand } from './commands/init-command.js';
import { intervalsCommand } from './commands/intervals-command.js';
import { renderCommand } from './commands/render-command.js';
import { runCommand } from './commands/run-command.js';
import { addStateCommands, STATE_HELP } from './commands/state-program.js';
import { createLogger } from './logging.js';
import { type Output, reportError } from './output.js';

const VERSION = '0.1.0';

/** Builds the `sluice` command line; every command acts on --project DIR or the current folder. */
export function buildProgram(output: Output) {
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
    .action((dir) => initCommand(dir, output));

  program
    .command('render')
    .description('print the SQL a model runs for an interval, macros expanded')
    .argument('<model>', 'model name, such as shop.orders')
    .option('-s, --start <date>', 'interval start (default: yesterday, UTC)')
    .option('-e, --end <date>', 'interval end; a date is inclusive (default: the start day)')
    .option('--execution-time <time>', 'value of @execution_* (default: now)')
    .action((model, options) => renderCommand(contextOf(program, output), model, options));

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
    .action((model, options) => evaluateCommand(contextOf(program, output), model, options));

  program
    .command('dag')
    .description('print the models in dependency order')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'dot', 'json'])
        .default('text'),
    )
    .action((options) => dagCommand(contextOf(program, output), options.format));

  program
    .command('run')
    .description('evaluate what is due now, models in dependency order')
    .argument('[environment]', 'environment to run', 'prod')
    .option('-c, --concurrency <tasks>', 'tasks run at once (default: 4)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']))
    .option('--state <url>', STATE_HELP)
    .action((environment, options) => runCommand(contextOf(program, output), environment, options));

  program
    .command('intervals')
    .description("show a model's processed and missing intervals")
    .argument('<model>', 'model name, such as shop.orders')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']))
    .option('--state <url>', STATE_HELP)
    .action((model, options) => intervalsCommand(contextOf(program, output), model, options));

  addStateCommands(program, () => contextOf(program, output));

  return program;
}

function contextOf(program: { opts(): { project: string; debug: boolean } }, output: Output) {
  const { project, debug } = program.opts();
  return { projectDir: project, output, logger: createLogger('cli', debug) };
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: readonly string[], output: Output = process): Promise<number> {
  const program = buildProgram(output);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (isCommanderExit(error)) return error.exitCode;
    return reportError(output, error, program.opts().debug === true || argv.includes('--debug'));
  }
}

function isCommanderExit(error: unknown): error is { exitCode: number; code: string } {
  return typeof error === 'object' && error !== null && 'exitCode' in error && 'code' in error;
}
