import type { EngineType } from '../project/project-config.js';
import type { EngineAdapter } from './engine-adapter.js';

/** What an adapter needs to connect: settings with secrets already resolved. */
export type EngineConnection = {
  readonly gateway: string;
  readonly type: EngineType;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Relative DuckDB database paths are taken from here (the project root). */
  readonly baseDir: string;
};

/**
 * Opens the adapter for a gateway. Each engine's module is imported on demand, so a process that
 * uses one engine never loads the other's driver.
 */
export async function createEngineAdapter(connection: EngineConnection): Promise<EngineAdapter> {
  if (connection.type === 'duckdb') {
    const { openDuckDbAdapter } = await import('./duckdb/duckdb-adapter.js');
    return openDuckDbAdapter(connection);
  }
  const { openPostgresAdapter } = await import('./postgres/postgres-adapter.js');
  return openPostgresAdapter(connection);
}
