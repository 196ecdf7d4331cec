import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';

/** An engine the contract suites run against, and why it is skipped when it is. */
export type EngineUnderTest = {
  readonly name: 'duckdb' | 'postgres';
  /** Empty when the engine can be used; otherwise why its suites are skipped. */
  readonly skipReason: string;
  /** Opens a fresh adapter whose schemas do not collide with other tests' (see TestEngine). */
  open(): Promise<TestEngine>;
};

/** An adapter for one test file plus a private schema namespace, dropped by `cleanup`. */
export type TestEngine = {
  readonly adapter: EngineAdapter;
  /** A schema name unique to this TestEngine: `schema('shop')` → `t3f9a1c_shop`. */
  schema(base: string): string;
  cleanup(): Promise<void>;
};

function namespace(): (base: string) => string {
  const prefix = `t${randomBytes(4).toString('hex')}_`;
  return (base) => `${prefix}${base}`;
}

async function openDuckDb(): Promise<TestEngine> {
  const adapter = await createEngineAdapter({
    gateway: 'test',
    type: 'duckdb',
    settings: { database: ':memory:' },
    baseDir: process.cwd(),
  });
  return { adapter, schema: namespace(), cleanup: () => adapter.close() };
}

/** The test server's URL as a PostgreSQL gateway's connection settings. */
export function postgresTestSettings(): Record<string, string | number> {
  const url = new URL(inject('postgresUrl'));
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: url.pathname.slice(1) || 'postgres',
    user: decodeURIComponent(url.username || 'postgres'),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  };
}

async function openPostgres(): Promise<TestEngine> {
  const adapter = await createEngineAdapter({
    gateway: 'test',
    type: 'postgres',
    settings: postgresTestSettings(),
    baseDir: process.cwd(),
  });
  const schema = namespace();
  const cleanup = async () => {
    const created = await adapter.query(
      'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
      [`${schema('')}%`],
    );
    for (const row of created.rows) {
      await adapter.execute(`DROP SCHEMA ${adapter.quoteIdentifier(String(row.name))} CASCADE`);
    }
    await adapter.close();
  };
  return { adapter, schema, cleanup };
}

/** Both engines; PostgreSQL carries a skip reason when the global setup found no server. */
export function enginesUnderTest(): EngineUnderTest[] {
  return [
    { name: 'duckdb', skipReason: '', open: openDuckDb },
    { name: 'postgres', skipReason: inject('postgresSkipReason'), open: openPostgres },
  ];
}

/**
 * A sluice.yaml whose default gateway `warehouse` is the test PostgreSQL server, with models in
 * the PostgreSQL dialect; `extraConnection` adds lines to its connection (indented already).
 */
export function postgresProjectConfig(name: string, extraConnection = ''): string {
  const pg = postgresTestSettings();
  return `name: ${name}
gateways:
  warehouse:
    connection:
      type: postgres
      host: ${pg.host}
      port: ${pg.port}
      database: ${pg.database}
      user: ${pg.user}
${extraConnection}default_gateway: warehouse
model_defaults:
  dialect: postgres
`;
}
