import type { EngineAdapter } from '../../engines/engine-adapter.js';
import { overriding } from './adapter-overrides.js';

/**
 * The engine's own ids of a task's work, reported with its completion so that an operator can
 * find the task in the engine's logs. On PostgreSQL each write transaction is named by its
 * server process and transaction id, `pid/xid` (the `%p` and `%x` of `log_line_prefix`), read
 * with one statement at its start. DuckDB has no such id: nothing is recorded there.
 */

/** `adapter` recording, into `ids`, the id of every transaction it opens. */
export function withTransactionIds(adapter: EngineAdapter, ids: string[]): EngineAdapter {
  if (adapter.type !== 'postgres') return adapter;
  return overriding(adapter, {
    transaction: <T>(
      work: Parameters<EngineAdapter['transaction']>[0],
      options?: Parameters<EngineAdapter['transaction']>[1],
    ) =>
      adapter.transaction(async (session) => {
        const named = await session.query(
          'SELECT pg_backend_pid() AS pid, txid_current()::text AS xid',
          [],
          options,
        );
        const row = named.rows[0];
        if (row !== undefined) ids.push(`${String(row.pid)}/${String(row.xid)}`);
        return (await work(session)) as T;
      }, options),
  });
}
