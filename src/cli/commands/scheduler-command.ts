import { parseDuration } from '../../core/duration.js';
import { SluiceError } from '../../core/errors.js';
import { readCostRatesFile } from '../../scheduler/cost/cost-rates-file.js';
import { startSchedulerService } from '../../scheduler/http/scheduler-service.js';
import type { CommandContext } from '../output.js';
import { createServiceLogger, nextStopSignal } from '../service-runtime.js';
import { resolveStateContext, type StateCliOptions } from '../state-context.js';
import { readUserFile } from '../user-files.js';
import { openStore } from '../with-state.js';
import { leaderOptionsOf, type SchedulerLeaderCliOptions } from './scheduler-leader-options.js';

/** The options of `sluice scheduler`, as the command line gives them. */
export type SchedulerCommandOptions = StateCliOptions & {
  /** `HOST:PORT`, `[IPv6]:PORT`; default 127.0.0.1:8470. */
  readonly listen?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly publicUrl?: string;
  readonly trustProxy?: boolean;
  readonly tokenTtl?: string;
  readonly logLevel?: string;
  /** A YAML or JSON file of rates per gateway name that task attempts are priced with. */
  readonly costRates?: string;
  readonly logRetention?: string;
  readonly runAbandonAfter?: string;
  readonly cadenceMaxSleep?: string;
  readonly lease?: string;
  readonly heartbeatInterval?: string;
  readonly pollWait?: string;
} & SchedulerLeaderCliOptions;

const DEFAULT_LISTEN = '127.0.0.1:8470';

/**
 * `sluice scheduler`: opens the state store (migrating it after a verified backup; a store newer
 * than this build is refused), serves the Scheduler's API until SIGTERM or SIGINT, then stops
 * gracefully: requests in flight finish, the store is closed, and the command returns so that the
 * process exits 0. Logs are JSON lines on standard output.
 */
export async function schedulerCommand(
  context: CommandContext,
  options: SchedulerCommandOptions,
): Promise<void> {
  const listen = parseListenAddress(options.listen ?? DEFAULT_LISTEN);
  const tls = await readTls(options.tlsCert, options.tlsKey);
  const tokenTtlSec = options.tokenTtl === undefined ? undefined : parseTokenTtl(options.tokenTtl);
  const logger = createServiceLogger(options.logLevel ?? 'info', context.output.stdout);
  const costRates =
    options.costRates === undefined ? undefined : await readCostRatesFile(options.costRates);

  const state = await resolveStateContext(context.projectDir, options);
  const store = await openStore(state, context, true);
  try {
    const service = await startSchedulerService({
      store,
      listenHost: listen.host,
      listenPort: listen.port,
      logger,
      ...(tls === undefined ? {} : { tls }),
      ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
      ...(tokenTtlSec === undefined ? {} : { tokenTtlSec }),
      trustProxy: options.trustProxy === true,
      ...leaderOptionsOf(options, state, logger.child({ component: 'scheduler' })),
      ...(costRates === undefined ? {} : { costRates }),
      ...(options.cadenceMaxSleep === undefined
        ? {}
        : { cadenceMaxSleepMs: parseDuration(options.cadenceMaxSleep, '--cadence-max-sleep') }),
      ...(options.runAbandonAfter === undefined
        ? {}
        : { runAbandonAfterMs: parseDuration(options.runAbandonAfter, '--run-abandon-after') }),
      ...(options.logRetention === undefined
        ? {}
        : { logRetentionMs: parseDuration(options.logRetention, '--log-retention') }),
      ...taskTimingsOf(options),
    });

    const signal = await nextStopSignal();
    logger.child({ component: 'scheduler' }).info({ signal }, 'shutting down');
    await service.close();
  } finally {
    await store.close();
  }
}

/** Parses `HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free port (logged when listening). */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new SluiceError(
      'usage',
      `--listen '${text}' is not an address to listen on; write HOST:PORT, such as ` +
        `'${DEFAULT_LISTEN}', '0.0.0.0:8470' or '[::1]:8470'`,
    );
  }
  return { host, port };
}

async function readTls(
  certFile: string | undefined,
  keyFile: string | undefined,
): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new SluiceError(
      'usage',
      'HTTPS needs both --tls-cert and --tls-key; give both, or neither to serve plain HTTP ' +
        'behind a proxy that terminates TLS',
    );
  }
  return {
    cert: await readUserFile(certFile, 'TLS certificate'),
    key: await readUserFile(keyFile, 'TLS private key'),
  };
}

function parseTokenTtl(text: string): number {
  const seconds = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 60 && seconds <= 86_400)) {
    throw new SluiceError(
      'usage',
      `--token-ttl '${text}' is not a token lifetime; give whole seconds from 60 to 86400 ` +
        '(default 600)',
    );
  }
  return seconds;
}

/** The lease, heartbeat and long-poll timings given on the command line, in whole seconds. */
function taskTimingsOf(options: SchedulerCommandOptions) {
  const seconds = (text: string | undefined, flag: string) =>
    text === undefined ? undefined : wholeSeconds(parseDuration(text, flag), flag);
  const leaseSec = seconds(options.lease, '--lease');
  const heartbeatIntervalSec = seconds(options.heartbeatInterval, '--heartbeat-interval');
  const pollWaitSec = seconds(options.pollWait, '--poll-wait');
  return {
    ...(leaseSec === undefined ? {} : { leaseSec }),
    ...(heartbeatIntervalSec === undefined ? {} : { heartbeatIntervalSec }),
    ...(pollWaitSec === undefined ? {} : { pollWaitSec }),
  };
}

function wholeSeconds(durationMs: number, flag: string): number {
  if (durationMs % 1000 === 0) return durationMs / 1000;
  throw new SluiceError('usage', `${flag} must be whole seconds, such as 30s or 2 minutes`);
}
