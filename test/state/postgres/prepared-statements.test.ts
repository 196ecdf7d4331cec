import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { PREPARED_MARK, preparingPool } from '../../../src/state/postgres/prepared-statements.js';

/**
 * Statements marked with PREPARED_MARK run as named prepared statements, parsed once per
 * connection; other statements run unnamed. Checked on a pool of one connection, whose
 * prepared statements `pg_prepared_statements` lists.
 */

const skipReason = inject('postgresSkipReason');

describe.skipIf(skipReason !== '')('prepared statements on PostgreSQL', () => {
  let pool: pg.Pool | undefined;

  afterEach(async () => {
    await pool?.end();
    pool = undefined;
  });

  function openDb(): Kysely<Record<string, Record<string, unknown>>> {
    pool = new pg.Pool({ connectionString: inject('postgresUrl'), max: 1 });
    return new Kysely({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  }

  async function preparedOnConnection(db: Kysely<Record<string, Record<string, unknown>>>) {
    const listed = await db.executeQuery<{ statement: string }>(
      CompiledQuery.raw('SELECT statement FROM pg_prepared_statements ORDER BY statement'),
    );
    return listed.rows.map((row) => row.statement);
  }

  it('prepares a marked statement once and runs it again by name', async () => {
    const db = openDb();
    const marked = `${PREPARED_MARK} SELECT $1::integer + 1 AS next`;

    const first = await db.executeQuery<{ next: number }>(CompiledQuery.raw(marked, [1]));
    const second = await db.executeQuery<{ next: number }>(CompiledQuery.raw(marked, [41]));

    expect(first.rows).toEqual([{ next: 2 }]);
    expect(second.rows).toEqual([{ next: 42 }]);
    expect(await preparedOnConnection(db)).toEqual([marked]);
  });

  it('runs statements without the mark unnamed, in transactions as well', async () => {
    const db = openDb();

    const answer = await db
      .transaction()
      .execute((trx) => trx.executeQuery(CompiledQuery.raw('SELECT $1::text AS word', ['plain'])));

    expect(answer.rows).toEqual([{ word: 'plain' }]);
    expect(await preparedOnConnection(db)).toEqual([]);
  });
});
