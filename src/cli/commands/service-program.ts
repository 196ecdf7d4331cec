import { type Command, Option } from '@commander-js/extra-typings';
import { ROLES } from '../../protocol/roles.js';
import type { CommandContext } from '../output.js';
import { STATE_HELP } from './state-program.js';

const FORMAT_OPTION = () =>
  new Option('-f, --format <format>', 'output format').choices(['text', 'json']);

/**
 * Registers the services and their administration: `sluice scheduler`, `sluice executor`,
 * `sluice clients
 * ...` and `sluice audit-log`. The client and audit log commands call the Scheduler's API when
 * SLUICE_URL is set and work on the state store otherwise.
 */
export function addServiceCommands(
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
    .option(
      '--backup-dir <dir>',
      'state backup folder (default: SLUICE_BACKUP_DIR, else .sluice/backups)',
    )
    .option(
      '--backup-cron <cron>',
      'when the leader backs the state up, in UTC (default: 0 2 * * *)',
    )
    .option('--backup-retention-days <days>', 'days state backups are kept (default: 14)')
    .option(
      '--janitor-cron <cron>',
      'when the leader runs the janitor, in UTC (default: 0 * * * *)',
    )
    .option('--table-ttl <duration>', 'how long an unused table stays, such as 7 days (default)')
    .option('--cost-rates <file>', 'YAML or JSON rates per gateway to price task attempts with')
    .option(
      '--log-retention <duration>',
      'how long task log lines are kept, such as 7 days (default)',
    )
    .option(
      '--cadence-max-sleep <duration>',
      'the longest the cadence loop sleeps before it reads settings and promotions (1 minute)',
    )
    .option(
      '--run-abandon-after <duration>',
      "how long a run's Scheduler may be silent before another abandons the run (30 seconds)",
    )
    .option('--lease <duration>', 'how long a task stays leased after a claim or heartbeat (60s)')
    .option('--heartbeat-interval <duration>', 'how often Executors heartbeat a lease (15s)')
    .option('--poll-wait <duration>', 'how long a claim waits for a task by default (25s)')
    .action(async (options) =>
      (await import('./scheduler-command.js')).schedulerCommand(context(), options),
    );

  program
    .command('executor')
    .description(
      "pull tasks from the Scheduler at SLUICE_URL and run them on the project's gateways",
    )
    .addOption(
      new Option('--pool <pool>', 'which work to take: run (cadence), apply (plans) or all')
        .choices(['run', 'apply', 'all'])
        .default('all'),
    )
    .option('--slots <n>', 'how many tasks may run at once (default: 4)')
    .option('--id <id>', "this Executor's id, unique per process (default: HOST-random)")
    .option('--grace <duration>', 'how long running tasks may finish on SIGTERM (default: 30s)')
    .option(
      '--env-file <file>',
      'NAME=value file with SLUICE_URL and the client credentials, re-read at each token ' +
        '(default: SLUICE_ENV_FILE)',
    )
    .option('--ca-file <file>', 'extra CA certificates (PEM) to trust (default: SLUICE_CA_FILE)')
    .option('--log-level <level>', 'log level: error, warn, info or debug (default: info)')
    .option(
      '--check',
      'exit 0 only if the Executor can authenticate, reach the Scheduler and its engine',
    )
    .action(async (options) =>
      (await import('./executor-command.js')).executorCommand(context(), options),
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
      (await import('./audit-log-command.js')).auditLogCommand(context(), options),
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
      (await import('./audit-log-command.js')).auditLogVerifyCommand(context(), auditLog.opts()),
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
  const load = () => import('./client-commands.js');
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
