/**
 * Connections to one DuckDB database. Each plain statement and each transaction takes a connection
 * of its own and gives it back afterwards, so concurrent work never shares one (connections are
 * cheap in DuckDB; the database runs their statements in parallel). A few idle ones are kept.
 */

import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import { toSluiceError } from './duckdb-errors.js';

/** Hands out connections to one database. */
export type ConnectionPool = {
  acquire(): Promise<DuckDBConnection>;
  /** Gives a connection back for reuse. */
  release(connection: DuckDBConnection): void;
  /** Closes a connection whose state is unknown instead of reusing it. */
  discard(connection: DuckDBConnection): void;
  /** Closes idle connections now and the others when they come back. */
  close(): void;
};

const MAX_IDLE_CONNECTIONS = 8;

/** A pool over `instance`; `prepare` runs once on each new connection. */
export function createConnectionPool(
  gateway: string,
  instance: DuckDBInstance,
  prepare: (connection: DuckDBConnection) => Promise<void>,
): ConnectionPool {
  const idle: DuckDBConnection[] = [];
  let isClosed = false;

  const open = async () => {
    const connection = await instance.connect().catch((error: unknown) => {
      throw toSluiceError(error);
    });
    try {
      await prepare(connection);
      return connection;
    } catch (error) {
      connection.closeSync();
      throw error;
    }
  };
  const discard = (connection: DuckDBConnection) => connection.closeSync();

  return {
    acquire: async () => {
      if (isClosed) {
        throw new SluiceError('internal', `The DuckDB adapter of gateway '${gateway}' is closed`);
      }
      return idle.pop() ?? open();
    },
    release: (connection) => {
      if (isClosed || idle.length >= MAX_IDLE_CONNECTIONS) discard(connection);
      else idle.push(connection);
    },
    discard,
    close: () => {
      isClosed = true;
      for (const connection of idle.splice(0)) discard(connection);
    },
  };
}
