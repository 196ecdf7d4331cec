import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { KeyRing, StateKey, StateLocation } from '../../src/state/state-types.js';

/** A state backend the store suites run against, and why it is skipped when it is. */
export type StateBackendUnderTest = {
  readonly name: 'sqlite' | 'postgres';
  /** Empty when the backend can be used; otherwise why its suites are skipped. */
  readonly skipReason: string;
  /** A fresh, empty location: a file in a new temporary folder, or a new private schema. */
  create(): Promise<TestStateLocation>;
};

/** A location for one test, removed by `cleanup`. */
export type TestStateLocation = {
  readonly location: StateLocation;
  cleanup(): Promise<void>;
};

async function createSqlite(): Promise<TestStateLocation> {
  const folder = await mkdtemp(join(tmpdir(), 'sluice-state-'));
  return {
    location: { backend: 'sqlite', path: join(folder, 'state.db') },
    cleanup: () => rm(folder, { recursive: true, force: true }),
  };
}

async function createPostgres(): Promise<TestStateLocation> {
  const url = inject('postgresUrl');
  const schema = `sluice_state_${randomBytes(6).toString('hex')}`;
  return {
    location: { backend: 'postgres', url, schema },
    cleanup: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Both backends; PostgreSQL carries a skip reason when the global setup found no server. */
export function stateBackendsUnderTest(): StateBackendUnderTest[] {
  return [
    { name: 'sqlite', skipReason: '', create: createSqlite },
    { name: 'postgres', skipReason: inject('postgresSkipReason'), create: createPostgres },
  ];
}

/** A state key with a readable id and random secret bytes. */
export function testStateKey(id: string): StateKey {
  return { id, secret: randomBytes(32) };
}

/** A key ring of the given keys, the first one active. */
export function testKeyRing(...keys: readonly StateKey[]): KeyRing {
  const [active] = keys;
  if (active === undefined) throw new Error('a key ring needs a key');
  return { active, keys: new Map(keys.map((key) => [key.id, key])) };
}
