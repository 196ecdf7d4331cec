import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelFingerprint } from '../../src/core/fingerprint.js';
import { IDENTIFIER_LIMIT_BYTES, physicalTableOf } from '../../src/core/physical-table.js';
import { fingerprintProject } from '../../src/project/model-fingerprints.js';
import { loadProject } from '../../src/project/project-loader.js';
import { errorOf } from '../helpers/errors.js';
import { writeProject } from '../helpers/temp-project.js';

const CONFIG = `name: test
model_defaults:
  start: '2024-01-01'
variables:
  min_qty: 1
  country: NL
`;

const ORDERS = `MODEL (
  name shop.orders,
  kind FULL,
  owner sales,
  description 'Orders with their amount'
);

SELECT o.id, o.product_id, o.qty * p.price AS amount
FROM raw.orders AS o
JOIN shop.products AS p ON p.id = o.product_id
WHERE o.qty >= @VAR('min_qty')
`;

const FILES: Record<string, string> = {
  'sluice.yaml': CONFIG,
  'external_models.yaml': '- name: raw.orders\n  columns:\n    id: INTEGER\n    qty: INTEGER\n',
  'seeds/products.csv': 'id,price\n1,2.50\n2,4.00\n',
  'models/products.sql': [
    "MODEL (name shop.products, kind SEED (path '../seeds/products.csv'),",
    '  columns (id INTEGER, price DECIMAL(10,2)));',
  ].join('\n'),
  'models/orders.sql': ORDERS,
  'models/revenue.sql': [
    "MODEL (name shop.revenue, kind FULL, cron '@daily', tags [finance]);",
    "SELECT SUM(amount) AS revenue, @VAR('country') AS country FROM shop.orders",
  ].join('\n'),
  'models/calendar.sql': 'MODEL (name shop.calendar, kind VIEW);\nSELECT 1 AS day',
};

async function fingerprintsOf(
  changes: Record<string, string> = {},
): Promise<ReadonlyMap<string, ModelFingerprint>> {
  const root = await writeProject({ ...FILES, ...changes });
  return fingerprintProject(await loadProject(root, { useCache: false }));
}

function versionsOf(fingerprints: ReadonlyMap<string, ModelFingerprint>): Record<string, string> {
  return Object.fromEntries([...fingerprints].map(([name, { version }]) => [name, version]));
}

/** The models whose version differs between two fingerprintings, sorted. */
function changedVersions(
  before: ReadonlyMap<string, ModelFingerprint>,
  after: ReadonlyMap<string, ModelFingerprint>,
): string[] {
  return [...before.keys()]
    .filter((name) => before.get(name)?.version !== after.get(name)?.version)
    .sort();
}

describe('fingerprinting a project', () => {
  it('fingerprints every model, external ones included, parents first', async () => {
    const fingerprints = await fingerprintsOf();

    expect([...fingerprints.keys()]).toEqual([
      'raw.orders',
      'shop.calendar',
      'shop.products',
      'shop.orders',
      'shop.revenue',
    ]);
    expect(fingerprints.get('shop.orders')?.parentVersions).toEqual({
      'raw.orders': fingerprints.get('raw.orders')?.version,
      'shop.products': fingerprints.get('shop.products')?.version,
    });
  });

  it('keeps every version through a formatting-only edit', async () => {
    const before = await fingerprintsOf();
    const reformatted = `MODEL (
  name shop.orders,
  kind FULL,
  owner sales,
  description 'Orders with their amount'
);

-- Orders, priced.
select
    o.id,
    o.product_id,
    o.qty * p.price as amount   /* in euros */
from raw.orders as o
    join shop.products as p
        on p.id = o.product_id
where o.qty >= @VAR('min_qty')
`;
    const after = await fingerprintsOf({
      'models/orders.sql': reformatted,
      'models/products.sql': [
        'MODEL (',
        '  name shop.products,',
        "  kind SEED (path '../seeds/products.csv'),",
        '  columns (id INTEGER, price DECIMAL(10, 2))',
        ');',
      ].join('\n'),
    });

    expect(after).toEqual(before);
  });

  it('keeps the version and table through a metadata-only edit, with a new metadata hash', async () => {
    const before = await fingerprintsOf();
    const after = await fingerprintsOf({
      'models/revenue.sql': [
        "MODEL (name shop.revenue, kind FULL, owner finance, description 'Total revenue',",
        "  cron '@hourly', tags [finance, board]);",
        "SELECT SUM(amount) AS revenue, @VAR('country') AS country FROM shop.orders",
      ].join('\n'),
    });

    expect(versionsOf(after)).toEqual(versionsOf(before));
    const [old, changed] = [before.get('shop.revenue'), after.get('shop.revenue')];
    expect(changed?.metadataHash).not.toBe(old?.metadataHash);
    expect(changed?.dataHash).toBe(old?.dataHash);
    const tableOf = (fingerprint: ModelFingerprint | undefined) =>
      physicalTableOf('shop.revenue', fingerprint?.version ?? '', IDENTIFIER_LIMIT_BYTES.postgres);
    expect(tableOf(changed)).toEqual(tableOf(old));
  });

  it('gives a changed query and its downstream models new versions, and nothing else', async () => {
    const before = await fingerprintsOf();
    const after = await fingerprintsOf({
      'models/orders.sql': ORDERS.replace('o.qty * p.price', 'o.qty * p.price * 1.21'),
    });

    expect(changedVersions(before, after)).toEqual(['shop.orders', 'shop.revenue']);
    expect(after.get('shop.revenue')?.dataHash).toBe(before.get('shop.revenue')?.dataHash);
  });

  it('gives new versions only to the models that read a changed variable, and downstream', async () => {
    const before = await fingerprintsOf();
    const country = await fingerprintsOf({ 'sluice.yaml': CONFIG.replace('NL', 'BE') });
    const quantity = await fingerprintsOf({
      'sluice.yaml': CONFIG.replace('min_qty: 1', 'min_qty: 2'),
    });
    const added = await fingerprintsOf({ 'sluice.yaml': `${CONFIG}  unused: true\n` });

    expect(changedVersions(before, country)).toEqual(['shop.revenue']);
    expect(changedVersions(before, quantity)).toEqual(['shop.orders', 'shop.revenue']);
    expect(changedVersions(before, added)).toEqual([]);
  });

  it('gives a seed a new version when its CSV file changes', async () => {
    const root = await writeProject(FILES);
    const before = await fingerprintProject(await loadProject(root, { useCache: false }));
    await writeFile(join(root, 'seeds/products.csv'), 'id,price\n1,2.50\n2,4.50\n');
    const after = await fingerprintProject(await loadProject(root, { useCache: false }));

    expect(changedVersions(before, after)).toEqual([
      'shop.orders',
      'shop.products',
      'shop.revenue',
    ]);
  });

  it('fingerprints disabled models too, after their parents', async () => {
    const fingerprints = await fingerprintsOf({
      'models/archive.sql':
        'MODEL (name shop.archive, kind FULL, enabled false);\nSELECT * FROM shop.orders',
      'models/report.sql': 'MODEL (name shop.report, kind FULL);\nSELECT * FROM shop.archive',
    });

    const names = [...fingerprints.keys()];
    expect(names.indexOf('shop.archive')).toBeGreaterThan(names.indexOf('shop.orders'));
    expect(names.indexOf('shop.report')).toBeGreaterThan(names.indexOf('shop.archive'));
    expect(fingerprints.get('shop.report')?.parentVersions).toEqual({
      'shop.archive': fingerprints.get('shop.archive')?.version,
    });
  });

  it('names a cycle through disabled models, which has no versions', async () => {
    const root = await writeProject({
      ...FILES,
      'models/a.sql': 'MODEL (name shop.a, kind FULL, enabled false);\nSELECT * FROM shop.b',
      'models/b.sql': 'MODEL (name shop.b, kind FULL, enabled false);\nSELECT * FROM shop.a',
    });
    const project = await loadProject(root, { useCache: false });

    const error = await errorOf(fingerprintProject(project));
    expect(error.code).toBe('dependency_cycle');
    expect(error.message).toContain('shop.a');
  });
});

describe('the example project’s fingerprints', () => {
  // Pinned: a change here changes the versions of every deployed project. Only a deliberate
  // change of FINGERPRINT_FORMAT, with a migration, may update these values.
  it('stay exactly as pinned', async () => {
    const fingerprints = await fingerprintProject(
      await loadProject('examples/shop', { useCache: false }),
    );
    const pinned = Object.fromEntries(
      [...fingerprints].map(([name, fingerprint]) => [
        name,
        { version: fingerprint.version, dataHash: fingerprint.dataHash },
      ]),
    );

    expect(pinned).toEqual(EXAMPLE_FINGERPRINTS);
  });
});

const EXAMPLE_FINGERPRINTS = {
  'raw.orders': {
    version: '5c47c2d576ee',
    dataHash: '1c5b7e517a9f98a4650ff46a084eb6983090e71b956bae7e45c53776cc04b90c',
  },
  'shop.customers': {
    version: 'ee887d57ada8',
    dataHash: '2fcca30c50ce0850d2f4101960bea6cf111da2719fcec4bee11b66ef95a6ad8d',
  },
  'shop.customer_history': {
    version: 'a3b5b1d5d63a',
    dataHash: 'b5e4d99e2ed2beb61c3682153fce0416078aceecd295488fd1a26177b6fdb2c2',
  },
  'shop.products': {
    version: '45097a7d727a',
    dataHash: '6c301055d56ddb18b0fa9937576b5e7775841e4af89c450d5ebffbe523da72fd',
  },
  'shop.orders': {
    version: '3375711a5040',
    dataHash: '6d8ef542d0a3c34112bef31e03aa7e303b156ced5c5d37ebc86a4045374821ba',
  },
  'shop.customer_totals': {
    version: '86d5e8bb981b',
    dataHash: '112d7595fada7185ed1790b092f0e38335eaf495e8b9197a2e5620fd04d0984b',
  },
  'shop.order_lines': {
    version: '0e9afb1f99d0',
    dataHash: '28fb38f32ecd44cefe210d7da975fec80fcd2f92391c0876a11bfb679d2a931f',
  },
  'shop.daily_revenue': {
    version: '4f2a98cca0ff',
    dataHash: '5ae777c574d19f6e1b591595d481d2ff522a6281f52b052e853c9add8035e7dc',
  },
  'shop.top_customers': {
    version: '631188ad8191',
    dataHash: 'd80d3dbf6a0dec0267105e6f5f43dda3a51c5f9bfc75e8311015f96b20a71aee',
  },
};
