import { type Logger, pino } from 'pino';
import { SluiceError } from '../core/errors.js';

/**
 * What the long-running commands (`sluice scheduler`, `sluice executor`) share: JSON log lines
 * with secret fields redacted, and the signal that stops them.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Field paths whose values are replaced in every log line, should a caller ever pass one. */
const REDACTED_PATHS = ['secret', 'token', 'password', '*.secret', '*.token', '*.password'];

/** A pino logger at `level` writing JSON lines to `out`; a level it does not know is refused. */
export function createServiceLogger(level: string, out: NodeJS.WritableStream): Logger {
  if (!LOG_LEVELS.includes(level)) {
    throw new SluiceError(
      'usage',
      `--log-level '${level}' is not a log level; use one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, out);
}

/** Resolves with the first SIGTERM or SIGINT; a second one gets the default action. */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      for (const name of STOP_SIGNALS) process.off(name, stop);
      resolve(signal);
    };
    for (const name of STOP_SIGNALS) process.on(name, stop);
  });
}
