import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import {
  FINGERPRINT_FORMAT,
  type FingerprintInputs,
  fingerprintModel,
  versionOf,
} from '../../src/core/fingerprint.js';
import { MODEL_FIELD_ROLES } from '../../src/core/fingerprint-parts.js';
import type { ModelDefinition, ModelKind } from '../../src/core/model.js';
import { stableJson } from '../../src/core/stable-json.js';

const source = (sql: string) => ({ sql, file: 'models/orders.sql', line: 9, column: 1 });

const ORDERS: ModelDefinition = {
  name: 'shop.orders',
  kind: {
    name: 'INCREMENTAL_BY_TIME_RANGE',
    timeColumn: 'order_date',
    timeColumnFormat: undefined,
    batchSize: 30,
    lookback: 0,
    isForwardOnly: false,
  },
  dialect: 'duckdb',
  cron: '@daily',
  cronTimeZone: undefined,
  intervalUnit: undefined,
  start: '2024-01-01',
  end: undefined,
  grains: ['order_id'],
  tags: ['finance'],
  owner: 'analytics',
  description: 'Orders',
  columns: [],
  audits: [{ name: 'not_null', args: { columns: ['order_id'] } }],
  dependsOn: [],
  isEnabled: true,
  allowsPartials: false,
  origin: { file: 'models/orders.sql', line: 1, column: 1 },
  query: source('SELECT order_id, order_date FROM raw.orders'),
  preStatements: [],
  postStatements: [],
};

const INPUTS: FingerprintInputs = {
  canonicalQuery: 'SELECT order_id , order_date FROM raw . orders',
  canonicalPreStatements: [],
  canonicalPostStatements: [],
  canonicalColumnTypes: [],
  variables: {},
  seedSha256: undefined,
  parentVersions: { 'raw.orders': '0123456789ab' },
};

/** One change of each field of a model definition. */
const FIELD_CHANGES: Record<keyof ModelDefinition, (model: ModelDefinition) => ModelDefinition> = {
  name: (model) => ({ ...model, name: 'shop.orders_v2' }),
  kind: (model) => ({ ...model, kind: { name: 'FULL' } }),
  dialect: (model) => ({ ...model, dialect: 'postgres' }),
  columns: (model) => ({ ...model, columns: [{ name: 'order_id', type: 'INTEGER' }] }),
  query: (model) => model,
  preStatements: (model) => model,
  postStatements: (model) => model,
  cron: (model) => ({ ...model, cron: '@hourly' }),
  cronTimeZone: (model) => ({ ...model, cronTimeZone: 'Europe/Amsterdam' }),
  intervalUnit: (model) => ({ ...model, intervalUnit: 'hour' }),
  start: (model) => ({ ...model, start: '2023-01-01' }),
  end: (model) => ({ ...model, end: '2025-01-01' }),
  grains: (model) => ({ ...model, grains: ['order_id', 'order_date'] }),
  tags: (model) => ({ ...model, tags: ['finance', 'daily'] }),
  owner: (model) => ({ ...model, owner: 'finance' }),
  description: (model) => ({ ...model, description: 'Valid orders' }),
  audits: (model) => ({ ...model, audits: [] }),
  dependsOn: (model) => ({ ...model, dependsOn: ['shop.customers'] }),
  isEnabled: (model) => ({ ...model, isEnabled: false }),
  allowsPartials: (model) => ({ ...model, allowsPartials: true }),
  origin: (model) => ({
    ...model,
    origin: { file: 'models/moved/orders.sql', line: 3, column: 1 },
  }),
};

/** The SQL itself enters through its canonical form, which the inputs carry. */
const INPUT_CHANGES: Partial<Record<keyof ModelDefinition, Partial<FingerprintInputs>>> = {
  query: { canonicalQuery: 'SELECT order_id FROM raw . orders' },
  preStatements: { canonicalPreStatements: ['SET threads = 2'] },
  postStatements: { canonicalPostStatements: ['ANALYZE'] },
};

const base = fingerprintModel(ORDERS, INPUTS);

describe('fingerprinting a model', () => {
  it('hashes data and metadata with SHA-256 and keeps 12 hex characters as the version', () => {
    expect(base.dataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(base.metadataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(base.version).toMatch(/^[0-9a-f]{12}$/);
    expect(base.parentVersions).toEqual({ 'raw.orders': '0123456789ab' });
  });

  it('gives the same fingerprint for the same model and inputs every time', () => {
    expect(fingerprintModel(structuredClone(ORDERS), structuredClone(INPUTS))).toEqual(base);
  });

  it('keeps its output stable across releases', () => {
    expect(FINGERPRINT_FORMAT).toBe('sluice-version-1');
    expect(base).toEqual({
      dataHash: 'ee0d92b831760db40f8886c100137a9cbf8a29279e8d06b2bf86d90676137a2a',
      metadataHash: 'f8518f4a02e5600d719de269ce247bafbab933a83375bdcb66fe661c98fa5dfc',
      version: '6d9eab5a2bd6',
      parentVersions: { 'raw.orders': '0123456789ab' },
    });
  });

  const fields = Object.keys(FIELD_CHANGES) as (keyof ModelDefinition)[];
  it.each(fields)('treats a change of %s according to its role', (field) => {
    const changed = fingerprintModel(FIELD_CHANGES[field](ORDERS), {
      ...INPUTS,
      ...INPUT_CHANGES[field],
    });
    const role = MODEL_FIELD_ROLES[field];

    if (role === 'data') {
      expect(changed.dataHash).not.toBe(base.dataHash);
      expect(changed.version).not.toBe(base.version);
    } else {
      expect(changed.dataHash).toBe(base.dataHash);
      expect(changed.version).toBe(base.version);
    }
    if (role === 'metadata') expect(changed.metadataHash).not.toBe(base.metadataHash);
    if (role === 'location') expect(changed).toEqual(base);
  });

  it('treats a kind’s shaping settings as data and its scheduling settings as metadata', () => {
    const kind = ORDERS.kind as Extract<ModelKind, { name: 'INCREMENTAL_BY_TIME_RANGE' }>;
    const withKind = (changes: Partial<typeof kind>) =>
      fingerprintModel({ ...ORDERS, kind: { ...kind, ...changes } }, INPUTS);

    for (const data of [{ timeColumn: 'ordered_at' }, { timeColumnFormat: '%Y%m%d' }]) {
      expect(withKind(data).version).not.toBe(base.version);
    }
    for (const metadata of [{ batchSize: 7 }, { lookback: 2 }, { isForwardOnly: true }]) {
      const changed = withKind(metadata);
      expect(changed.version).toBe(base.version);
      expect(changed.metadataHash).not.toBe(base.metadataHash);
    }
  });

  it('makes a new version when a referenced variable’s value changes', () => {
    const before = fingerprintModel(ORDERS, { ...INPUTS, variables: { min_quantity: 1 } });
    const after = fingerprintModel(ORDERS, { ...INPUTS, variables: { min_quantity: 2 } });

    expect(after.version).not.toBe(before.version);
    expect(before.version).not.toBe(base.version);
  });

  it('makes a new version, with the same data hash, when a parent’s version changes', () => {
    const changed = fingerprintModel(ORDERS, {
      ...INPUTS,
      parentVersions: { 'raw.orders': 'ba9876543210' },
    });

    expect(changed.dataHash).toBe(base.dataHash);
    expect(changed.version).not.toBe(base.version);
    expect(changed.version).toBe(versionOf(base.dataHash, changed.parentVersions));
  });

  it('lists parent versions by name whatever order they come in', () => {
    const fingerprint = fingerprintModel(ORDERS, {
      ...INPUTS,
      parentVersions: { 'shop.b': '2', 'shop.a': '1', ['__proto__']: '3' },
    });

    expect(Object.keys(fingerprint.parentVersions)).toEqual(['__proto__', 'shop.a', 'shop.b']);
  });
});

describe('fingerprinting seed and external models', () => {
  const seed: ModelDefinition = {
    ...ORDERS,
    name: 'shop.customers',
    kind: {
      name: 'SEED',
      path: '/home/a/shop/seeds/c.csv',
      declaredPath: '../seeds/c.csv',
      batchSize: undefined,
    },
    query: undefined,
  };
  const seedInputs = {
    ...INPUTS,
    canonicalQuery: undefined,
    seedSha256: 'a'.repeat(64),
    parentVersions: {},
  };
  const seedBase = fingerprintModel(seed, seedInputs);

  it('makes a new seed version when the file content changes', () => {
    const changed = fingerprintModel(seed, { ...seedInputs, seedSha256: 'b'.repeat(64) });
    expect(changed.version).not.toBe(seedBase.version);
  });

  it('keeps the seed version when the file moves, in the project or to another checkout', () => {
    const moved = fingerprintModel(
      {
        ...seed,
        kind: {
          ...seed.kind,
          path: '/srv/ci/shop/data/c.csv',
          declaredPath: '../data/c.csv',
        } as ModelKind,
      },
      seedInputs,
    );

    expect(moved.version).toBe(seedBase.version);
    expect(moved.metadataHash).not.toBe(seedBase.metadataHash);
  });

  it('versions an external model by its name and declared columns only', () => {
    const external: ModelDefinition = { ...ORDERS, kind: { name: 'EXTERNAL' }, query: undefined };
    const inputs = { ...INPUTS, canonicalQuery: undefined, parentVersions: {} };
    const externalBase = fingerprintModel(external, inputs);

    const redescribed = fingerprintModel(
      { ...external, dialect: 'postgres', description: 'Raw' },
      inputs,
    );
    const recolumned = fingerprintModel(
      { ...external, columns: [{ name: 'order_id', type: 'BIGINT' }] },
      inputs,
    );

    expect(redescribed.version).toBe(externalBase.version);
    expect(redescribed.metadataHash).not.toBe(externalBase.metadataHash);
    expect(recolumned.version).not.toBe(externalBase.version);
  });
});

describe('stable JSON', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(stableJson({ b: [3, { d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[3,{"c":2,"d":1}]}');
  });

  it('leaves out members whose value is undefined', () => {
    expect(stableJson({ a: 1, b: undefined })).toBe(stableJson({ a: 1 }));
  });

  it('refuses numbers JSON cannot write', () => {
    expect(() => stableJson({ a: Number.NaN })).toThrow(SluiceError);
    expect(() => stableJson(Number.POSITIVE_INFINITY)).toThrow(SluiceError);
  });
});
