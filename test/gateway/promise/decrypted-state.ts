import { sql } from 'kysely';
import type { StateStore } from '../../../src/state/state-store.js';
import type { EncryptedColumn } from '../../../src/state/state-types.js';
import type { Haystack } from './secret-forms.js';

/**
 * Every row of every table of a state store as searchable bytes: the tables come from the
 * store's catalog (so a table added by a later migration is read too), every column of every row
 * is taken, and each payload of a declared encrypted column is decrypted at its row's address.
 * Bytes in a column that no migration declares encrypted are kept as they are and counted, since
 * a search of them is only as good as their encoding is plain.
 */

/** One row of one table, its values as JSON with each payload replaced by its plaintext. */
export type DecryptedRow = Haystack & { readonly table: string };

/** The rows read, and how many payloads were decrypted and how many binary values were not. */
export type DecryptedState = {
  readonly rows: readonly DecryptedRow[];
  readonly tables: readonly string[];
  readonly decryptedPayloads: number;
  /** `table.column` of each binary value in a column not declared encrypted. */
  readonly undeclaredBinary: readonly string[];
};

/** Reads the whole store; see the module comment. */
export async function readDecryptedState(store: StateStore): Promise<DecryptedState> {
  const tables = [...(await store.tableNames())];
  const encrypted = new Map(store.encryptedColumns().map((column) => [keyOf(column), column]));
  const rows: DecryptedRow[] = [];
  const undeclaredBinary: string[] = [];
  let decryptedPayloads = 0;

  for (const table of tables) {
    const result = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`.execute(
      store.db,
    );
    for (const [index, row] of result.rows.entries()) {
      const values: Record<string, unknown> = {};
      for (const [column, value] of Object.entries(row)) {
        const declared = encrypted.get(`${table}.${column}`);
        if (!Buffer.isBuffer(value)) {
          values[column] = value;
        } else if (declared === undefined) {
          undeclaredBinary.push(`${table}.${column}`);
          values[column] = value.toString('latin1');
        } else {
          values[column] = decrypt(store, declared, row, value);
          decryptedPayloads += 1;
        }
      }
      const where = `state ${table} row ${index + 1}`;
      rows.push({ table, where, bytes: Buffer.from(JSON.stringify(values, plainBigInt), 'utf8') });
    }
  }
  return { rows, tables, decryptedPayloads, undeclaredBinary };
}

/** SQLite returns some integers as bigint, which JSON cannot hold as such. */
function plainBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function keyOf(column: EncryptedColumn): string {
  return `${column.table}.${column.column}`;
}

function decrypt(
  store: StateStore,
  column: EncryptedColumn,
  row: Record<string, unknown>,
  ciphertext: Buffer,
): string {
  const address = {
    table: column.table,
    column: column.column,
    rowId: String(row[column.idColumn]),
  };
  return store.cipher.decrypt(ciphertext, address).toString('utf8');
}
