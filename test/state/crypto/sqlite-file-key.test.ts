import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteFileKey } from '../../../src/state/crypto/sqlite-file-key.js';
import type { StateKey } from '../../../src/state/state-types.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-file-key-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function openWithKey(path: string, fileKey: string): Database.Database {
  const db = new Database(path);
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`key="x'${fileKey}'"`);
  return db;
}

describe('sqliteFileKey', () => {
  const key: StateKey = { id: 'k1', secret: randomBytes(32) };

  it('derives a stable 32-byte key as hex, different from the state key', () => {
    const fileKey = sqliteFileKey(key);

    expect(fileKey).toMatch(/^[0-9a-f]{64}$/);
    expect(sqliteFileKey({ id: 'other-id', secret: key.secret })).toBe(fileKey);
    expect(fileKey).not.toBe(key.secret.toString('hex'));
    expect(sqliteFileKey({ id: 'k1', secret: randomBytes(32) })).not.toBe(fileKey);
  });

  it('opens an SQLCipher file it encrypted, which another key cannot read', () => {
    const path = join(dir, 'state.db');
    const writer = openWithKey(path, sqliteFileKey(key));
    writer.exec('create table t (a integer); insert into t values (42)');
    writer.close();

    const reader = openWithKey(path, sqliteFileKey(key));
    const intruder = openWithKey(path, sqliteFileKey({ id: 'k1', secret: randomBytes(32) }));

    expect(reader.prepare('select a from t').get()).toEqual({ a: 42 });
    expect(() => intruder.prepare('select a from t').get()).toThrow('file is not a database');
    reader.close();
    intruder.close();
  });
});
