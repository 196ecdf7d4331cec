import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * Named prepared statements for the state store's hot statements on PostgreSQL, such as the task
 * queue's claim and completion. A statement whose text begins with `PREPARED_MARK` is prepared
 * once per connection under a name of its own, and from then on only bound and executed, so the
 * server no longer parses and plans it on every call: for a short statement that is most of what
 * it costs the server. Every other statement runs unnamed, as before. The server picks a generic
 * plan for a prepared statement after a few runs, so a marked statement should find its rows
 * by key or by an index that serves it whatever the parameters are.
 */

/** The comment that opens a statement to be prepared. */
export const PREPARED_MARK = '/* prepared */';

/**
 * Statement texts that get a name, at most; further marked texts run unnamed. Marked statements
 * have a fixed text, or a few (an IN list of one or two pools), so the bound is never reached in
 * practice; it keeps a mistake from filling every connection with prepared statements.
 */
const MAX_NAMED_TEXTS = 64;

/** The name of each marked text, the same on every connection of the process. */
const names = new Map<string, string>();

/** The pool as Kysely takes it, whose clients run marked statements as prepared ones. */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      let preparing = clients.get(client);
      if (preparing === undefined) {
        preparing = preparingClient(client);
        clients.set(client, preparing);
      }
      return preparing;
    },
    end: () => pool.end(),
  };
}

/** The same client; Kysely keeps one connection object per client, so this is made once. */
function preparingClient(client: pg.PoolClient): PostgresPoolClient {
  // Kysely calls query(text, parameters) for statements and query(cursor) for streams.
  const runQuery = client.query.bind(client) as (...args: unknown[]) => unknown;
  const query = (text: unknown, parameters?: readonly unknown[]): unknown => {
    const name = typeof text === 'string' ? nameOf(text) : undefined;
    if (name === undefined) return runQuery(text, parameters);
    return runQuery({ name, text, values: parameters });
  };
  return {
    query: query as PostgresPoolClient['query'],
    release: (destroy) => client.release(destroy),
  };
}

function nameOf(text: string): string | undefined {
  if (!text.startsWith(PREPARED_MARK)) return undefined;
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_NAMED_TEXTS) return known;

  const name = `sluice_prepared_${names.size + 1}`;
  names.set(text, name);
  return name;
}
