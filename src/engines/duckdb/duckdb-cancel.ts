/**
 * Cancelling DuckDB work through an AbortSignal: the connection is interrupted, and the call
 * rejects with `query_cancelled`.
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import { cancelledError } from './duckdb-errors.js';

// DuckDB forgets an interrupt when the next statement on the connection starts, so an interrupt
// that lands between two statements (or while one is being prepared) is repeated until the work
// settles.
const INTERRUPT_REPEAT_MS = 25;

/** Rejects with `query_cancelled` when the signal has already aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw cancelledError();
}

/**
 * Runs `work` on `connection`, interrupting it when `signal` aborts. Work that fails after the
 * abort rejects with `query_cancelled`; work that finished before the interrupt took hold keeps
 * its result, since what it wrote is already there.
 */
export async function runInterruptible<T>(
  connection: DuckDBConnection,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return work();
  throwIfCancelled(signal);

  let repeat: NodeJS.Timeout | undefined;
  const interrupt = () => {
    connection.interrupt();
    repeat = setInterval(() => connection.interrupt(), INTERRUPT_REPEAT_MS);
  };
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    return await work();
  } catch (error) {
    if (signal.aborted) throw cancelledError();
    throw error;
  } finally {
    signal.removeEventListener('abort', interrupt);
    clearInterval(repeat);
  }
}

/** One signal that aborts when any of the given ones does. */
export function eitherSignal(
  first: AbortSignal | undefined,
  second: AbortSignal | undefined,
): AbortSignal | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return AbortSignal.any([first, second]);
}
