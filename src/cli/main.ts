import { Command, Option } from '@commander-js/extra-typings';
import { ROLES } from '../protocol/roles.js';
import { addStateCommands, STATE_HELP } from './commands/state-program.js';
import { createLogger } from './logging.js';
import { type CommandContext, type Output, reportError } from './output.js';

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

  program
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

  return program;
}

const FORMAT_OPTION = () =>
  new Option('-f, --format <format>', 'output format').choices(['text', 'json']);

/**
 * Registers the Scheduler service and its administration: `sluice scheduler`, `sluice clients
 * ...` and `sluice audit-log`. The client and audit log commands call the Scheduler's API when
 * SLUICE_URL is set and work on the state store otherwise.
 */
function addServiceCommands(
  program: Command<[], { project: string; debug: boolean }>,
  context: () => CommandContext,
) {
  program
    .command('scheduler')
    .description('run the Scheduler service: the API, OAuth token endpoint and metrics')
    .option('--state <url>', STATE_HELP)
    .option('--listen <host:port>', 'address to listen on, HOST:PORT (default: 127.0.0.1:8470)')
    .option('--tls-cert <file>', 'TLS certificate chain (PEM); with --tls-key serves HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--public-url <url>', 'the URL clients reach the service at (the token issuer)')
    .option('--trust-proxy', 'trust X-Forwarded-* headers from a reverse proxy')
    .option('--token-ttl <sec>', 'access token lifetime in seconds (default: 600)')
    .option('--log-level <level>', 'log level: error, warn, info or debug (default: info)')
    .action(async (options) =>
      (await import('./commands/scheduler-command.js')).schedulerCommand(context(), options),
    );

  addClientCommands(program, context);

  const auditLog = program
    .command('audit-log')
    .description('list the audit log of security-relevant actions, or verify its hash chain')
    .option('--after <seq>', 'list entries after this sequence number')
    .option('-n, --limit <entries>', 'entries to list (default: 100, at most 1000)')
    .addOption(FORMAT_OPTION())
    .option('--state <url>', STATE_HELP)
    .action(async (options) =>
      (await import('./commands/audit-log-command.js')).auditLogCommand(context(), options),
    );
  // Commander gives options written after `verify` to `audit-log` (the root program keeps its
  // options recognisable after subcommands), so verify reads --state and --format from there.
  auditLog
    .command('verify')
    .description(
      "check the audit log's hash chain (takes --state and --format); exits 1 when an entry " +
        'was removed or edited',
    )
    .action(async () =>
      (await import('./commands/audit-log-command.js')).auditLogVerifyCommand(
        context(),
        auditLog.opts(),
      ),
    );
}

/** Registers `sluice clients bootstrap|create|list|rotate-secret|revoke`. */
function addClientCommands(
  program: Command<[], { project: string; debug: boolean }>,
  context: () => CommandContext,
) {
  const clients = program
    .command('clients')
    .description('manage the OAuth clients that may call the Scheduler');
  const load = () => import('./commands/client-commands.js');
  const subcommand = (name: string, description: string) =>
    clients
      .command(name)
      .description(description)
      .addOption(FORMAT_OPTION())
      .option('--state <url>', STATE_HELP);

  subcommand(
    'bootstrap',
    'create the first admin client on the state store; prints its secret once',
  )
    .argument('[name]', 'client name', 'admin')
    .action(async (name, options) =>
      (await load()).clientsBootstrapCommand(context(), name, options),
    );
  subcommand('create', 'create a client with one or more roles; prints its secret once')
    .argument('<name>', 'client name: a-z, 0-9, ".", "_" or "-"')
    .option('-r, --role <role>', `a role (repeat for more): ${ROLES.join(', ')}`, collect, [])
    .action(async (name, options) => (await load()).clientsCreateCommand(context(), name, options));
  subcommand('list', 'list the clients, their roles and secrets (never a secret itself)').action(
    async (options) => (await load()).clientsListCommand(context(), options),
  );
  subcommand('rotate-secret', 'give a client a new secret; the old one works for a grace period')
    .argument('<name>', 'client name')
    .option(
      '--grace <duration>',
      'how long the previous secret keeps working: 0, 2h, 1d (default: 1d)',
    )
    .action(async (name, options) =>
      (await load()).clientsRotateSecretCommand(context(), name, options),
    );
  subcommand('revoke', 'revoke a client: no new tokens, and its tokens stop working within seconds')
    .argument('<name>', 'client name')
    .action(async (name, options) => (await load()).clientsRevokeCommand(context(), name, options));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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
