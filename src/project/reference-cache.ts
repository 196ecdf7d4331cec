import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Dialect } from '../core/model.js';

/** The tables one rendered statement reads and writes, as found by the parser. */
export type StatementTables = {
  readonly reads: readonly string[];
  readonly writes: readonly string[];
};

const CACHE_VERSION = 1;

/**
 * Remembers the tables of each rendered statement across loads, keyed by a hash of dialect and
 * text, so that reloading an unchanged project parses nothing. It lives in `.sluice/cache/`; it is
 * only an accelerator: a missing, stale or corrupt file is ignored.
 */
export class ReferenceCache {
  private readonly used = new Map<string, StatementTables>();
  private isChanged = false;

  private constructor(
    private readonly path: string | undefined,
    private readonly known: ReadonlyMap<string, StatementTables>,
  ) {}

  /** Opens the cache of a project; `enabled: false` gives one that remembers nothing on disk. */
  static async open(root: string, enabled: boolean): Promise<ReferenceCache> {
    if (!enabled) return new ReferenceCache(undefined, new Map());
    const path = join(root, '.sluice', 'cache', `references-v${CACHE_VERSION}.json`);
    return new ReferenceCache(path, await readEntries(path));
  }

  /** The key of a statement: a hash of its dialect and rendered text. */
  static keyOf(dialect: Dialect, sql: string): string {
    return createHash('sha1').update(dialect).update('\n').update(sql).digest('base64url');
  }

  get(key: string): StatementTables | undefined {
    const tables = this.used.get(key) ?? this.known.get(key);
    if (tables !== undefined) this.used.set(key, tables);
    return tables;
  }

  set(key: string, tables: StatementTables): void {
    this.used.set(key, tables);
    this.isChanged = true;
  }

  /** Writes the entries used by this load (dropping stale ones) when anything new was parsed. */
  async save(): Promise<void> {
    const isShrunk = this.used.size < this.known.size;
    if (this.path === undefined || (!this.isChanged && !isShrunk)) return;

    const entries = Object.fromEntries(this.used);
    const temporary = `${this.path}.${process.pid}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(temporary, JSON.stringify({ version: CACHE_VERSION, entries }));
    await rename(temporary, this.path);
  }
}

async function readEntries(path: string): Promise<Map<string, StatementTables>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as {
      version?: number;
      entries?: Record<string, StatementTables>;
    };
    if (parsed.version !== CACHE_VERSION || typeof parsed.entries !== 'object') return new Map();
    return new Map(Object.entries(parsed.entries));
  } catch {
    return new Map();
  }
}
