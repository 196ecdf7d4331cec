import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sqliteFileKey } from '../crypto/sqlite-file-key.js';
import type { StateKey } from '../state-types.js';

/**
 * Runs SQL on an encrypted SQLite file in a worker thread, on a connection of its own. The SQLite
 * driver is synchronous: `VACUUM INTO` or `PRAGMA integrity_check` over a 1 GB file would stop
 * the process's event loop (and hold the store's only connection) for many seconds, so backups
 * of a store in use run them here instead. The worker is plain JavaScript given as source, so the
 * same code runs from `dist/` and under the test runner.
 */

/** One statement and how to run it: `all` returns its rows, `run` nothing. */
export type WorkerStatement = {
  readonly sql: string;
  readonly params?: readonly unknown[];
  readonly mode?: 'all' | 'run';
};

/** What to open and run. */
export type WorkerRequest = {
  readonly path: string;
  readonly key: StateKey;
  readonly isReadonly: boolean;
  readonly statements: readonly WorkerStatement[];
};

/** A failure inside the worker, with SQLite's result code when there is one. */
export class SqliteWorkerError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'SqliteWorkerError';
    this.code = code;
  }
}

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers');
const BUSY_TIMEOUT_MS = 10_000;

// The key is set by pragma before the first read, as the store does; it never enters a URI.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { readonly: workerData.isReadonly, fileMustExist: true });
  db.pragma("cipher = 'sqlcipher'");
  db.pragma('legacy = 4');
  db.pragma('key = "x\\'' + workerData.keyHex + '\\'"');
  db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
  const results = workerData.statements.map((statement) => {
    const prepared = db.prepare(statement.sql);
    if (statement.mode === 'run') {
      prepared.run(...statement.params);
      return [];
    }
    return prepared.all(...statement.params);
  });
  parentPort.postMessage({ results });
} catch (error) {
  parentPort.postMessage({ error: { message: String(error && error.message), code: error && error.code } });
} finally {
  if (db !== undefined) db.close();
}
`;

/** Opens `path` with `key` in a worker, runs the statements in order and returns their rows. */
export function runInSqliteWorker(request: WorkerRequest): Promise<Record<string, unknown>[][]> {
  const workerData = {
    driver: DRIVER,
    path: request.path,
    keyHex: sqliteFileKey(request.key),
    isReadonly: request.isReadonly,
    busyTimeoutMs: BUSY_TIMEOUT_MS,
    statements: request.statements.map((statement) => ({
      sql: statement.sql,
      params: statement.params ?? [],
      mode: statement.mode ?? 'all',
    })),
  };

  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.once('message', (message: WorkerMessage) => {
      if (message.error === undefined) resolve(message.results ?? []);
      else reject(new SqliteWorkerError(message.error.message, message.error.code));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(new SqliteWorkerError(`the SQLite worker stopped (exit code ${code})`, undefined));
    });
  });
}

type WorkerMessage = {
  readonly results?: Record<string, unknown>[][];
  readonly error?: { readonly message: string; readonly code: string | undefined };
};
