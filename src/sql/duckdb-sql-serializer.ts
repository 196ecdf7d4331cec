/**
 * DuckDB's own parser, reached through `json_serialize_sql` on an in-memory database that is
 * opened on first use. It is the fallback for DuckDB-only syntax, so most projects never open it.
 */

import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import { SluiceError } from '../core/errors.js';

/** What DuckDB made of a SQL text. `position` counts characters (code points), not bytes. */
export type DuckDbSerialization =
  | { readonly kind: 'statements'; readonly statements: readonly unknown[] }
  | { readonly kind: 'not_select' }
  | { readonly kind: 'error'; readonly message: string; readonly position: number | undefined };

/** Parses SQL with DuckDB's parser, one text at a time. */
export type DuckDbSqlSerializer = {
  serialize(sql: string): Promise<DuckDbSerialization>;
  close(): Promise<void>;
};

type Session = {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  readonly statement: DuckDBPreparedStatement;
};

type SerializedJson = {
  readonly error?: boolean;
  readonly error_type?: string;
  readonly error_message?: string;
  readonly position?: string | number;
  readonly statements?: readonly unknown[];
};

/** A serializer that opens DuckDB lazily; `close` releases it (a later call opens it again). */
export function createDuckDbSqlSerializer(): DuckDbSqlSerializer {
  let opening: Promise<Session> | undefined;
  // One prepared statement is bound and run per call, so calls must not interleave.
  let queue: Promise<unknown> = Promise.resolve();

  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    serialize: (sql) =>
      exclusive(async () => {
        opening ??= openSession();
        return readSerialization(await runSerialize(await opening, sql));
      }),
    close: () =>
      exclusive(async () => {
        const session = opening === undefined ? undefined : await opening.catch(() => undefined);
        opening = undefined;
        if (session !== undefined) closeSession(session);
      }),
  };
}

async function openSession(): Promise<Session> {
  // Loaded on first use: the native module costs start-up time that most loads never need.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const statement = await connection.prepare('SELECT json_serialize_sql($1::VARCHAR)');
  return { instance, connection, statement };
}

function closeSession(session: Session): void {
  session.statement.destroySync();
  session.connection.closeSync();
  session.instance.closeSync();
}

async function runSerialize(session: Session, sql: string): Promise<string> {
  session.statement.bindVarchar(1, sql);
  const reader = await session.statement.runAndReadAll();
  const value = reader.value(0, 0);
  if (typeof value !== 'string') {
    throw new SluiceError('internal', 'DuckDB returned no serialised form of the SQL statement');
  }
  return value;
}

function readSerialization(text: string): DuckDbSerialization {
  const result = JSON.parse(text) as SerializedJson;
  if (result.error !== true) return { kind: 'statements', statements: result.statements ?? [] };
  // DuckDB parsed the text but can serialise SELECT statements only.
  if (result.error_type === 'not implemented') return { kind: 'not_select' };

  const position = result.position === undefined ? undefined : Number(result.position);
  return {
    kind: 'error',
    message: result.error_message ?? 'DuckDB could not parse the statement',
    position: position !== undefined && Number.isSafeInteger(position) ? position : undefined,
  };
}
