import { SluiceError } from '../core/errors.js';

/**
 * Runs `work` with a signal that Ctrl-C (SIGINT) or SIGTERM aborts, so running SQL is cancelled
 * and the command ends cleanly with what it finished recorded.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () =>
    controller.abort(new SluiceError('query_cancelled', 'The command was interrupted'));
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}
