import type { Hash } from 'node:crypto';
import type { KeyRing } from '../state-types.js';
import { backupInvalid } from './backup-manifest.js';
import { decryptExportLines, readExportHeader } from './export-cipher.js';
import {
  type ExportLine,
  type ExportValue,
  parseExportLine,
  VERSION_COLUMN,
  VERSION_TABLE,
} from './export-lines.js';
import type { ExportColumn } from './postgres-tables.js';

/**
 * Reads a PostgreSQL export back: decrypts it, checks that its lines form a complete export
 * (start, each table's columns and rows, end with matching counts) and hands tables and rows to
 * the caller. Everything handed over is untrusted until `readPostgresExport` resolves, since the
 * authentication tag is only checked at the end.
 */

/** Callbacks for what the export holds, in file order. */
export type ExportHandlers = {
  onTable?(table: string, columns: readonly ExportColumn[]): Promise<void>;
  onRow?(table: string, row: readonly ExportValue[]): Promise<void>;
};

/** What a complete export holds. */
export type ExportContent = {
  readonly keyId: string;
  readonly schemaVersion: number;
  readonly tables: Readonly<Record<string, number>>;
};

type Table = { readonly name: string; readonly columns: readonly ExportColumn[] };

/** Reads the whole export at `path`, hashing its bytes into `hash`. */
export async function readPostgresExport(
  path: string,
  ring: KeyRing,
  sizeBytes: number,
  hash: Hash,
  handlers: ExportHandlers = {},
): Promise<ExportContent> {
  const header = await readExportHeader(path);
  const reader = new ExportChecker(path);
  for await (const text of decryptExportLines(path, ring, sizeBytes, hash)) {
    await reader.accept(parseExportLine(text), handlers);
  }
  return { keyId: header.keyId, ...reader.finish() };
}

/** Follows the lines in order and rejects any that break the export's structure. */
class ExportChecker {
  readonly #path: string;
  #lineNumber = 0;
  #tables: readonly string[] | undefined;
  #current: Table | undefined;
  #counts: Record<string, number> = {};
  #versionFromRows = 0;
  #end: Extract<ExportLine, { kind: 'end' }> | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  async accept(line: ExportLine | undefined, handlers: ExportHandlers): Promise<void> {
    this.#lineNumber += 1;
    if (line === undefined) this.#fail('is not a line of a Sluice export');
    if (this.#end !== undefined) this.#fail('follows the end of the export');
    if (this.#tables === undefined && line.kind !== 'start') this.#fail('comes before the start');

    switch (line.kind) {
      case 'start':
        if (this.#tables !== undefined) this.#fail('starts the export a second time');
        this.#tables = line.tables;
        return;
      case 'table':
        this.#startTable(line.table, line.columns);
        return handlers.onTable?.(line.table, line.columns);
      case 'row':
        this.#countRow(line.table, line.row);
        return handlers.onRow?.(line.table, line.row);
      case 'end':
        this.#end = line;
    }
  }

  finish(): Omit<ExportContent, 'keyId'> {
    const end = this.#end;
    if (end === undefined) this.#fail('ends early: the export has no end line');
    const tables = this.#tables ?? [];
    for (const table of tables) {
      if ((end.rows[table] ?? -1) !== (this.#counts[table] ?? -1)) {
        this.#fail(
          `says table '${table}' has ${end.rows[table]} rows, but ${this.#counts[table]} were read`,
        );
      }
    }
    if (end.schemaVersion !== this.#versionFromRows) {
      this.#fail(
        `says schema version ${end.schemaVersion}, but ${VERSION_TABLE} holds ${this.#versionFromRows}`,
      );
    }
    return { schemaVersion: end.schemaVersion, tables: this.#counts };
  }

  #startTable(name: string, columns: readonly ExportColumn[]): void {
    if (!(this.#tables ?? []).includes(name))
      this.#fail(`names table '${name}', which the start line does not list`);
    if (name in this.#counts) this.#fail(`repeats table '${name}'`);
    this.#current = { name, columns };
    this.#counts[name] = 0;
  }

  #countRow(table: string, row: readonly ExportValue[]): void {
    const current = this.#current;
    if (current?.name !== table) this.#fail(`is a row of '${table}' outside that table's section`);
    if (row.length !== current.columns.length) {
      this.#fail(
        `has ${row.length} values where table '${table}' has ${current.columns.length} columns`,
      );
    }
    this.#counts[table] = (this.#counts[table] ?? 0) + 1;
    if (table === VERSION_TABLE) {
      const index = current.columns.findIndex((column) => column.name === VERSION_COLUMN);
      this.#versionFromRows = Math.max(this.#versionFromRows, Number(row[index] ?? 0));
    }
  }

  #fail(problem: string): never {
    throw backupInvalid(this.#path, `line ${this.#lineNumber} of the decrypted export ${problem}`);
  }
}
