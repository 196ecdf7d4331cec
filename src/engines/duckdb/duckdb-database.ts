/**
 * A gateway's DuckDB database: its settings, read and checked, and the opened instance. A file is
 * opened once per process, however many adapters point at it, and closed when the last of them
 * closes; an in-memory database belongs to the adapter that opened it.
 */

import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { didYouMean, SluiceError } from '../../core/errors.js';
import { quoteIdentifier } from '../../sql/dialect.js';
import type { EngineConnection } from '../create-engine-adapter.js';
import { openFailure, settingsConflict } from './duckdb-errors.js';

/** The in-memory database's name, as DuckDB spells it. */
export const IN_MEMORY = ':memory:';

/** The catalog name under which the gateway's database is attached and used. */
export const DATABASE_CATALOG = 'sluice_db';

/** A gateway's DuckDB settings with defaults applied. */
export type DuckDbSettings = {
  /** An absolute file path, or `:memory:`. */
  readonly path: string;
  /** Options handed to DuckDB when it opens the database. */
  readonly options: Readonly<Record<string, string>>;
};

const SETTING_NAMES = ['database', 'threads', 'memory_limit'];

/**
 * Reads `database` (default `.sluice/<gateway>.duckdb` under baseDir), `threads`, `memory_limit`.
 */
export function readDuckDbSettings(connection: EngineConnection): DuckDbSettings {
  const { gateway, settings, baseDir } = connection;
  for (const name of Object.keys(settings)) {
    if (name !== 'type' && !SETTING_NAMES.includes(name)) {
      throw settingError(
        gateway,
        `has unknown setting '${name}'.${didYouMean(name, SETTING_NAMES)}`,
      );
    }
  }

  const database = settings.database ?? `.sluice/${gateway}.duckdb`;
  if (typeof database !== 'string' || database === '') {
    throw settingError(gateway, "needs 'database' to be a file path or ':memory:'");
  }
  const options: Record<string, string> = {};
  if (settings.threads !== undefined) options.threads = readThreads(gateway, settings.threads);
  if (settings.memory_limit !== undefined) options.memory_limit = String(settings.memory_limit);

  const path = database === IN_MEMORY ? IN_MEMORY : resolve(baseDir, database);
  return { path, options };
}

/** An opened database; `release` closes it once every adapter that opened it has released it. */
export type OpenedDatabase = {
  readonly instance: DuckDBInstance;
  release(): void;
};

type SharedFile = {
  readonly optionsKey: string;
  readonly opening: Promise<DuckDBInstance>;
  users: number;
};

// Files open in this process, by real path: DuckDB must not open one file twice in a process.
const openFiles = new Map<string, SharedFile>();

/**
 * Opens the database as catalog `sluice_db` (see DATABASE_CATALOG), creating the file's folder
 * first. Failures are `engine_unreachable`, or `config_invalid` for settings DuckDB refuses.
 */
export async function openDuckDbDatabase(
  gateway: string,
  settings: DuckDbSettings,
): Promise<OpenedDatabase> {
  if (settings.path === IN_MEMORY) {
    const instance = await openInstance(gateway, settings);
    return { instance, release: () => instance.closeSync() };
  }
  const key = await canonicalPath(gateway, settings.path);
  const optionsKey = JSON.stringify(settings.options);
  let shared = openFiles.get(key);
  if (shared !== undefined && shared.optionsKey !== optionsKey) {
    throw settingsConflict(gateway, settings.path);
  }
  if (shared === undefined) {
    shared = { optionsKey, opening: openInstance(gateway, settings), users: 0 };
    openFiles.set(key, shared);
    shared.opening.catch(() => openFiles.delete(key));
  }
  shared.users += 1;
  return { instance: await shared.opening, release: () => releaseFile(key) };
}

function releaseFile(key: string): void {
  const shared = openFiles.get(key);
  if (shared === undefined) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  openFiles.delete(key);
  void shared.opening.then((instance) => instance.closeSync());
}

async function canonicalPath(gateway: string, path: string): Promise<string> {
  try {
    await mkdir(dirname(path), { recursive: true });
    return join(await realpath(dirname(path)), basename(path));
  } catch (error) {
    throw openFailure(error, gateway, path);
  }
}

/**
 * DuckDB names a database file's catalog after the file, so `shop.duckdb` holding a schema `shop`
 * would make every `shop.orders` ambiguous. The file is therefore attached to an in-memory
 * instance under a fixed catalog name, which each connection makes its default (`USE`).
 */
async function openInstance(gateway: string, settings: DuckDbSettings): Promise<DuckDBInstance> {
  const { path, options } = settings;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(IN_MEMORY, { ...options });
  } catch (error) {
    throw settingsFailure(error, gateway, options) ?? openFailure(error, gateway, path);
  }
  try {
    const connection = await instance.connect();
    const literal = `'${path.replaceAll("'", "''")}'`;
    await connection.run(`ATTACH ${literal} AS ${quoteIdentifier('duckdb', DATABASE_CATALOG)}`);
    connection.closeSync();
    return instance;
  } catch (error) {
    instance.closeSync();
    throw openFailure(error, gateway, path);
  }
}

function settingsFailure(
  error: unknown,
  gateway: string,
  options: Readonly<Record<string, string>>,
): SluiceError | undefined {
  if (!(error instanceof Error && error.message.startsWith('Failed to set config'))) {
    return undefined;
  }
  const given = Object.entries(options).map(([name, value]) => `${name} '${value}'`);
  return settingError(
    gateway,
    `has settings DuckDB refused (${given.join(', ')}); threads is a positive whole number ` +
      "and memory_limit a size such as '4GB'",
  );
}

function readThreads(gateway: string, value: string | number | boolean): string {
  const threads = Number(value);
  if (typeof value === 'boolean' || !Number.isInteger(threads) || threads < 1) {
    throw settingError(gateway, "needs 'threads' to be a positive whole number");
  }
  return String(threads);
}

function settingError(gateway: string, problem: string): SluiceError {
  return new SluiceError('config_invalid', `DuckDB gateway '${gateway}' ${problem}`);
}
