import { pino } from 'pino';
import type { Logger } from '../core/logger.js';

/** Field paths whose values pino replaces with "[redacted]" wherever they appear. */
const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  'connection',
  'params',
  '*.password',
  '*.token',
  '*.secret',
  '*.connection',
  '*.params',
];

/**
 * The JSON logger of a command or service, writing to standard error so that standard output
 * stays the command's result. The CLI logs at warn unless --debug asks for everything.
 */
export function createLogger(component: string, isDebug: boolean): Logger {
  return pino(
    {
      level: isDebug ? 'debug' : 'warn',
      base: { component },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
