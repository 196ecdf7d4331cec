import type { EngineAdapter, EngineSession } from '../../engines/engine-adapter.js';
import { overriding } from './adapter-overrides.js';

/**
 * An adapter that reports the text of every statement it runs, for a task's log: the SQL only,
 * never the bound parameters, which may hold data. Everything else is the wrapped adapter's, and
 * statements the adapter runs for its own methods (`tableExists`, `describeTable`) are not
 * reported.
 */

/** Called with each statement's text before it runs. */
export type StatementListener = (sql: string) => void;

/** `adapter` with its statements, and those of its transactions, reported to `onStatement`. */
export function withStatementLog(
  adapter: EngineAdapter,
  onStatement: StatementListener,
): EngineAdapter {
  const session = loggedSession(adapter, onStatement);
  return overriding(adapter, {
    query: session.query,
    execute: session.execute,
    transaction: <T>(
      work: (inner: EngineSession) => Promise<T>,
      options?: Parameters<EngineAdapter['transaction']>[1],
    ) => adapter.transaction((inner) => work(loggedSession(inner, onStatement)), options),
  });
}

function loggedSession(session: EngineSession, onStatement: StatementListener): EngineSession {
  return {
    query: (sql, params, options) => {
      onStatement(sql);
      return session.query(sql, params, options);
    },
    execute: (sql, params, options) => {
      onStatement(sql);
      return session.execute(sql, params, options);
    },
    bulkLoad: (table, columns, rows, options) => session.bulkLoad(table, columns, rows, options),
    loadCsvFile: (table, path, columns, options) =>
      session.loadCsvFile(table, path, columns, options),
  };
}
