import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { type RunProject, writeRunProject } from '../helpers/run-project.js';
import { type CliResult, runCli } from '../helpers/temp-project.js';

/**
 * The options of `sluice plan` end to end through the CLI on both engines: a limited backfill of
 * a development environment, restatements, model selection, forward-only changes, skipped
 * backfills, and how a change is categorised. Every test builds its own project.
 */

/** A daily incremental model over 2024-01-01..`end`, with `select` as its select list. */
const ORDERS = (select = 'CAST(t.d AS DATE) AS day, 1 AS amount', end = '2024-01-10') => `MODEL (
  name {s}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 5),
  cron '@daily',
  start '2024-01-01',
  end '${end}'
);

SELECT ${select}
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;

const TOTALS = `MODEL (name {s}.daily_totals, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT day, CAST(SUM(amount) AS INTEGER) AS amount FROM {s}.orders GROUP BY day
`;

/** An incremental model over `table`, a table of (day, amount) rows. */
const COPY_OF = (model: string, table: string) => `MODEL (
  name {s}.${model},
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 10),
  start '2024-01-01',
  end '2024-01-10'
);

SELECT day, amount FROM ${table} WHERE day BETWEEN @start_ds AND @end_ds
`;

/** A FULL model with a fixed select list; `name` and `select` vary. */
const FULL = (model: string, select: string, from: string) =>
  `MODEL (name {s}.${model}, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT ${select} FROM ${from}
`;

type Range = { start: string; end: string };

type PlanJson = {
  hasChanges: boolean;
  isApplied: boolean;
  changes: { modelName: string; kind: string; category?: string; reason?: string }[];
  backfills: { modelName: string; needsCreate: boolean; ranges: Range[]; intervals: number }[];
  restatements: { modelName: string; ranges: Range[] }[];
};

type IntervalsJson = {
  version: string;
  table: { schema: string; name: string };
  processed: Range[];
  missing: Range[];
  missingIntervals: number;
};

/** A project on one engine and the commands the tests run on it. */
type Harness = {
  readonly project: RunProject;
  /** The model's full name: `orders` → `r1a2b3c4_shop.orders`. */
  name(model: string): string;
  cli(...args: string[]): Promise<CliResult>;
  /** `sluice plan --format json ...`, with the printed plan parsed. */
  plan(...args: string[]): Promise<CliResult & { json: PlanJson }>;
  write(file: string, text: string): Promise<void>;
  /** Runs SQL on the project's engine; `{s}` stands for the schema. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  execute(sql: string): Promise<void>;
  /** Opens an adapter on the project's engine for `use`, and closes it. */
  withEngine<T>(use: (adapter: EngineAdapter) => Promise<T>): Promise<T>;
  intervals(model: string, environment?: string): Promise<IntervalsJson>;
  tableName(model: string, environment?: string): Promise<string>;
};

/** The ISO instant of midnight UTC on the given day of January 2024. */
const day = (dayOfMonth: number) => `2024-01-${String(dayOfMonth).padStart(2, '0')}T00:00:00.000Z`;

/** The half-open range of days `[first, endDay)` of January 2024. */
const days = (first: number, endDay: number): Range => ({ start: day(first), end: day(endDay) });

/** One `{ day, amount }` row per day of January 2024 in `[first, endDay)`. */
const amounts = (first: number, endDay: number, amount: number | ((d: number) => number)) =>
  Array.from({ length: endDay - first }, (_, index) => ({
    day: day(first + index).slice(0, 10),
    amount: typeof amount === 'number' ? amount : amount(first + index),
  }));

describe.each(enginesUnderTest())('sluice plan options on $name', (engine) => {
  const opened: RunProject[] = [];

  afterEach(async () => {
    for (const project of opened.splice(0)) await project.cleanup();
  });

  async function harness(files: Record<string, string>): Promise<Harness> {
    const project = await writeRunProject(engine.name, files);
    opened.push(project);
    const expand = (text: string) => text.replaceAll('{s}', project.schema);
    const cli = (...args: string[]) => runCli('--project', project.root, ...args);
    const withEngine = async <T>(use: (adapter: EngineAdapter) => Promise<T>) => {
      const adapter = await project.openEngine();
      try {
        return await use(adapter);
      } finally {
        await adapter.close();
      }
    };
    const json = async <T>(...args: string[]) => {
      const result = await cli(...args);
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as T;
    };
    const environmentArgs = (environment: string | undefined) =>
      environment === undefined ? [] : ['--env', environment];

    return {
      project,
      name: (model) => `${project.schema}.${model}`,
      cli,
      plan: async (...args) => {
        const result = await cli('plan', '--format', 'json', ...args);
        return { ...result, json: JSON.parse(result.stdout || '{}') as PlanJson };
      },
      write: (file, text) => writeFile(join(project.root, file), expand(text)),
      query: (sql) => withEngine(async (adapter) => [...(await adapter.query(expand(sql))).rows]),
      execute: (sql) => withEngine(async (adapter) => void (await adapter.execute(expand(sql)))),
      withEngine,
      intervals: (model, environment) =>
        json<IntervalsJson>(
          'intervals',
          `${project.schema}.${model}`,
          '--format',
          'json',
          ...environmentArgs(environment),
        ),
      tableName: async (model, environment) => {
        const result = await cli(
          'table-name',
          `${project.schema}.${model}`,
          ...environmentArgs(environment),
        );
        expect(result.code).toBe(0);
        return result.stdout.trim();
      },
    };
  }

  /** The (day, amount) rows of a view or table, as text dates and whole numbers, by day. */
  async function amountsOf(h: Harness, relation: string) {
    const rows = await h.query(
      `SELECT CAST(day AS VARCHAR) AS day, CAST(amount AS INTEGER) AS amount FROM ${relation} ORDER BY day`,
    );
    return rows.map((row) => ({ day: String(row.day).slice(0, 10), amount: Number(row.amount) }));
  }

  /** Applies the project to prod, expecting success. */
  async function applyProd(h: Harness) {
    const result = await h.plan('--auto-apply');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }

  it.skipIf(engine.skipReason !== '')(
    'limits the backfill of a development environment to --start and --end, and leaves prod alone',
    async () => {
      const h = await harness({
        'models/orders.sql': ORDERS(),
        'models/daily_totals.sql': TOTALS,
      });
      await applyProd(h);
      const prodTable = await h.tableName('orders');
      await h.write('models/orders.sql', ORDERS('CAST(t.d AS DATE) AS day, 2 AS amount'));

      const dev = await h.plan(
        'dev',
        '--start',
        '2024-01-03',
        '--end',
        '2024-01-05',
        '--auto-apply',
      );

      expect(dev.code).toBe(0);
      expect(dev.json.changes.find((c) => c.modelName === h.name('orders'))).toMatchObject({
        kind: 'directly_modified',
        category: 'breaking',
      });
      expect(dev.json.backfills).toEqual([
        expect.objectContaining({
          modelName: h.name('orders'),
          ranges: [days(3, 6)],
          intervals: 3,
        }),
        expect.objectContaining({
          modelName: h.name('daily_totals'),
          ranges: [days(3, 6)],
          intervals: 3,
        }),
      ]);
      const orders = await h.intervals('orders', 'dev');
      expect(orders.processed).toEqual([days(3, 6)]);
      expect(orders.missing).toEqual([days(1, 3), days(6, 11)]);
      expect((await h.intervals('daily_totals', 'dev')).processed).toEqual([days(3, 6)]);
      expect(await amountsOf(h, '{s}__dev.orders')).toEqual(amounts(3, 6, 2));
      expect(await amountsOf(h, '{s}__dev.daily_totals')).toEqual(amounts(3, 6, 2));

      expect(await h.tableName('orders')).toBe(prodTable);
      expect(await h.tableName('orders', 'dev')).not.toBe(prodTable);
      expect((await h.intervals('orders')).processed).toEqual([days(1, 11)]);
      expect(await amountsOf(h, '{s}.orders')).toEqual(amounts(1, 11, 1));
      expect(await amountsOf(h, '{s}.daily_totals')).toEqual(amounts(1, 11, 1));
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'refuses --start and --end on prod with a message saying why, and changes nothing',
    async () => {
      const h = await harness({ 'models/orders.sql': ORDERS() });
      await applyProd(h);
      const prodTable = await h.tableName('orders');
      await h.write('models/orders.sql', ORDERS('CAST(t.d AS DATE) AS day, 2 AS amount'));

      const refused = await h.cli(
        'plan',
        '--start',
        '2024-01-03',
        '--end',
        '2024-01-05',
        '--auto-apply',
      );

      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^error: --start and --end limit the backfill of development environments only: prod must be complete/m,
      );
      expect(refused.stdout).toBe('');
      expect(await h.tableName('orders')).toBe(prodTable);
      expect(await amountsOf(h, '{s}.orders')).toEqual(amounts(1, 11, 1));
      expect((await h.cli('environments')).stdout).toMatch(/^prod {2}revision 1, /m);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'completes the versions a limited development environment built when prod takes them',
    async () => {
      const h = await harness({
        'models/orders.sql': ORDERS(),
        'models/daily_totals.sql': TOTALS,
      });
      await applyProd(h);
      await h.write('models/orders.sql', ORDERS('CAST(t.d AS DATE) AS day, 2 AS amount'));
      expect(
        (await h.plan('dev', '--start', '2024-01-03', '--end', '2024-01-05', '--auto-apply')).code,
      ).toBe(0);
      const devTable = await h.tableName('orders', 'dev');

      const prod = await h.plan('--auto-apply');

      expect(prod.code).toBe(0);
      expect(
        prod.json.backfills.map((entry) => [entry.modelName, entry.needsCreate, entry.ranges]),
      ).toEqual([
        [h.name('orders'), false, [days(1, 3), days(6, 11)]],
        [h.name('daily_totals'), false, [days(1, 3), days(6, 11)]],
      ]);
      expect(await h.tableName('orders')).toBe(devTable);
      expect((await h.intervals('orders')).missing).toEqual([]);
      expect(await amountsOf(h, '{s}.orders')).toEqual(amounts(1, 11, 2));
      expect(await amountsOf(h, '{s}.daily_totals')).toEqual(amounts(1, 11, 2));
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'restates a model and its downstream models over their whole range, with no model change',
    async () => {
      const h = await harness({
        'models/events.sql': COPY_OF('events', '{s}_raw.events'),
        'models/event_totals.sql': COPY_OF('event_totals', '{s}.events'),
        'models/raw_copy.sql': COPY_OF('raw_copy', '{s}_raw.events'),
      });
      await createRawEvents(h);
      await applyProd(h);
      await h.execute('UPDATE {s}_raw.events SET amount = 10');

      const restated = await h.plan('--restate-model', h.name('events'), '--auto-apply');

      expect(restated.code).toBe(0);
      expect(restated.json.isApplied).toBe(true);
      expect(restated.json.changes).toEqual([]);
      expect(restated.json.restatements).toEqual([
        expect.objectContaining({ modelName: h.name('events'), ranges: [days(1, 11)] }),
        expect.objectContaining({ modelName: h.name('event_totals'), ranges: [days(1, 11)] }),
      ]);
      expect(restated.json.backfills.map((entry) => [entry.modelName, entry.ranges])).toEqual([
        [h.name('events'), [days(1, 11)]],
        [h.name('event_totals'), [days(1, 11)]],
      ]);
      expect(await amountsOf(h, '{s}.events')).toEqual(amounts(1, 11, 10));
      expect(await amountsOf(h, '{s}.event_totals')).toEqual(amounts(1, 11, 10));
      expect(await amountsOf(h, '{s}.raw_copy')).toEqual(amounts(1, 11, 1));
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'restates only --start to --end in a development environment, and leaves prod alone',
    async () => {
      const h = await harness({
        'models/events.sql': COPY_OF('events', '{s}_raw.events'),
        'models/event_totals.sql': COPY_OF('event_totals', '{s}.events'),
      });
      await createRawEvents(h);
      await applyProd(h);
      await h.write(
        'models/events.sql',
        COPY_OF('events', '{s}_raw.events').replace('amount FROM', 'amount * 2 AS amount FROM'),
      );
      // Dev builds its own versions of both models, so restating them touches no table of prod's.
      expect((await h.plan('dev', '--auto-apply')).code).toBe(0);
      await h.execute('UPDATE {s}_raw.events SET amount = 10');

      const restated = await h.plan(
        'dev',
        '--restate-model',
        h.name('events'),
        '--start',
        '2024-01-03',
        '--end',
        '2024-01-04',
        '--auto-apply',
      );

      expect(restated.code).toBe(0);
      expect(restated.json.changes).toEqual([]);
      expect(restated.json.restatements).toEqual([
        expect.objectContaining({ modelName: h.name('events'), ranges: [days(3, 5)] }),
        expect.objectContaining({ modelName: h.name('event_totals'), ranges: [days(3, 5)] }),
      ]);
      const restatedDays = (d: number) => (d === 3 || d === 4 ? 20 : 2);
      expect(await amountsOf(h, '{s}__dev.events')).toEqual(amounts(1, 11, restatedDays));
      expect(await amountsOf(h, '{s}__dev.event_totals')).toEqual(amounts(1, 11, restatedDays));
      expect((await h.intervals('events', 'dev')).processed).toEqual([days(1, 11)]);
      expect(await amountsOf(h, '{s}.events')).toEqual(amounts(1, 11, 1));
      expect(await amountsOf(h, '{s}.event_totals')).toEqual(amounts(1, 11, 1));
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'plans and applies only the selected model and its downstream models',
    async () => {
      const h = await harness({
        'models/left.sql': FULL('left_side', '1 AS n', '(SELECT 1 AS x) AS one'),
        'models/left_down.sql': FULL('left_down', 'n + 1 AS n', '{s}.left_side'),
        'models/right.sql': FULL('right_side', '1 AS n', '(SELECT 1 AS x) AS one'),
      });
      await applyProd(h);
      const before = {
        left: await h.tableName('left_side'),
        leftDown: await h.tableName('left_down'),
        right: await h.tableName('right_side'),
      };
      await h.write('models/left.sql', FULL('left_side', '2 AS n', '(SELECT 1 AS x) AS one'));
      await h.write('models/right.sql', FULL('right_side', '2 AS n', '(SELECT 1 AS x) AS one'));

      const selected = await h.plan('--select-model', h.name('left_side'), '--auto-apply');

      expect(selected.code).toBe(0);
      expect(selected.json.changes.map((change) => [change.modelName, change.kind])).toEqual([
        [h.name('left_side'), 'directly_modified'],
        [h.name('left_down'), 'indirectly_modified'],
      ]);
      expect(selected.json.backfills.map((entry) => entry.modelName)).toEqual([
        h.name('left_side'),
        h.name('left_down'),
      ]);
      expect(await h.tableName('left_side')).not.toBe(before.left);
      expect(await h.tableName('left_down')).not.toBe(before.leftDown);
      expect(await h.tableName('right_side')).toBe(before.right);
      expect(await h.query('SELECT CAST(n AS INTEGER) AS n FROM {s}.left_down')).toEqual([
        { n: 3 },
      ]);
      expect(await h.query('SELECT CAST(n AS INTEGER) AS n FROM {s}.right_side')).toEqual([
        { n: 1 },
      ]);

      const rest = await h.plan();
      expect(rest.json.changes.map((change) => [change.modelName, change.kind])).toEqual([
        [h.name('right_side'), 'directly_modified'],
      ]);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'adds a column forward-only: the table stays, old rows get NULL and new intervals get values',
    async () => {
      const h = await harness({ 'models/orders.sql': ORDERS(undefined, '2024-01-05') });
      await applyProd(h);
      const table = await h.tableName('orders');
      await h.write(
        'models/orders.sql',
        ORDERS('CAST(t.d AS DATE) AS day, 1 AS amount, 10 AS bonus', '2024-01-07'),
      );

      const forward = await h.plan('--forward-only', '--auto-apply');

      expect(forward.stderr).toBe('');
      expect(forward.code).toBe(0);
      expect(forward.json.changes).toEqual([
        expect.objectContaining({
          modelName: h.name('orders'),
          kind: 'directly_modified',
          category: 'forward_only',
        }),
      ]);
      expect(forward.json.backfills).toEqual([
        expect.objectContaining({
          modelName: h.name('orders'),
          ranges: [days(6, 8)],
          intervals: 2,
        }),
      ]);
      expect(await h.tableName('orders')).toBe(table);
      const rows = await h.query(
        'SELECT CAST(day AS VARCHAR) AS day, CAST(bonus AS INTEGER) AS bonus FROM {s}.orders ORDER BY day',
      );
      expect(rows.map((row) => [String(row.day).slice(0, 10), row.bonus])).toEqual([
        ...[1, 2, 3, 4, 5].map((d) => [day(d).slice(0, 10), null]),
        [day(6).slice(0, 10), 10],
        [day(7).slice(0, 10), 10],
      ]);
      expect((await h.intervals('orders')).processed).toEqual([days(1, 8)]);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'refuses to drop a column forward-only, naming the model and column, and changes nothing',
    async () => {
      const h = await harness({
        'models/orders.sql': ORDERS('CAST(t.d AS DATE) AS day, 1 AS amount, 7 AS extra'),
      });
      await applyProd(h);
      const table = await h.tableName('orders');
      await h.write('models/orders.sql', ORDERS());

      const dropped = await h.cli('plan', '--forward-only', '--auto-apply');

      expect(dropped.code).toBe(1);
      expect(dropped.stderr).toContain(
        `Model '${h.name('orders')}' is planned as forward-only, but its query no longer ` +
          `returns column 'extra'`,
      );
      expect(dropped.stderr).toContain(`Environment 'prod' is unchanged`);
      expect(await h.tableName('orders')).toBe(table);
      expect((await h.cli('environments')).stdout).toMatch(/^prod {2}revision 1, /m);
      const rows = await h.query('SELECT CAST(extra AS INTEGER) AS extra FROM {s}.orders');
      expect(rows).toEqual(Array.from({ length: 10 }, () => ({ extra: 7 })));
      const [schema, name] = table.split('.') as [string, string];
      const columns = await h.withEngine((adapter) => adapter.describeTable({ schema, name }));
      expect(columns?.map((column) => column.name.toLowerCase())).toEqual([
        'day',
        'amount',
        'extra',
      ]);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'creates empty tables and promotes with --skip-backfill, and a following run fills them',
    async () => {
      const h = await harness({
        'models/orders.sql': ORDERS(),
        'models/daily_totals.sql': TOTALS,
      });

      const skipped = await h.plan('--skip-backfill', '--auto-apply');

      expect(skipped.code).toBe(0);
      expect(skipped.json.isApplied).toBe(true);
      expect(skipped.json.backfills).toEqual([
        expect.objectContaining({ modelName: h.name('orders'), needsCreate: true, ranges: [] }),
        expect.objectContaining({
          modelName: h.name('daily_totals'),
          needsCreate: true,
          ranges: [],
        }),
      ]);
      expect(await amountsOf(h, '{s}.orders')).toEqual([]);
      expect(await amountsOf(h, '{s}.daily_totals')).toEqual([]);
      for (const model of ['orders', 'daily_totals']) {
        const intervals = await h.intervals(model);
        expect(intervals.processed).toEqual([]);
        expect(intervals.missing).toEqual([days(1, 11)]);
        expect(intervals.missingIntervals).toBe(10);
      }

      const run = await h.cli('run', '--format', 'json');

      expect(run.code).toBe(0);
      expect(await amountsOf(h, '{s}.orders')).toEqual(amounts(1, 11, 1));
      expect(await amountsOf(h, '{s}.daily_totals')).toEqual(amounts(1, 11, 1));
      expect((await h.intervals('orders')).missing).toEqual([]);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'calls a change that only adds a column non-breaking: downstream models keep their tables',
    async () => {
      const h = await harness({
        'models/orders.sql': ORDERS(),
        'models/daily_totals.sql': TOTALS,
      });
      await applyProd(h);
      const orders = await h.tableName('orders');
      const totals = await h.tableName('daily_totals');
      await h.write(
        'models/orders.sql',
        ORDERS('CAST(t.d AS DATE) AS day, 1 AS amount, 3 AS extra'),
      );

      const added = await h.plan('--auto-apply');

      expect(added.code).toBe(0);
      expect(added.json.changes).toEqual([
        expect.objectContaining({
          modelName: h.name('orders'),
          kind: 'directly_modified',
          category: 'non_breaking',
        }),
        expect.objectContaining({
          modelName: h.name('daily_totals'),
          kind: 'indirectly_modified',
          category: 'non_breaking',
        }),
      ]);
      expect(added.json.backfills.map((entry) => entry.modelName)).toEqual([h.name('orders')]);
      expect(await h.tableName('orders')).not.toBe(orders);
      expect(await h.tableName('daily_totals')).toBe(totals);
      expect(await amountsOf(h, '{s}.daily_totals')).toEqual(amounts(1, 11, 1));
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'calls a change to a select list with a star breaking: downstream models get new tables',
    async () => {
      const h = await harness({
        'models/orders.sql': ORDERS(),
        'models/wide.sql': FULL('wide', 'o.*', '{s}.orders AS o'),
        'models/wide_count.sql': FULL('wide_count', 'COUNT(*) AS n', '{s}.wide'),
      });
      await applyProd(h);
      const wide = await h.tableName('wide');
      const count = await h.tableName('wide_count');
      await h.write('models/wide.sql', FULL('wide', 'o.*, 3 AS extra', '{s}.orders AS o'));

      const starred = await h.plan('--auto-apply');

      expect(starred.code).toBe(0);
      expect(starred.json.changes).toEqual([
        expect.objectContaining({
          modelName: h.name('wide'),
          kind: 'directly_modified',
          category: 'breaking',
          reason: expect.stringContaining('*'),
        }),
        expect.objectContaining({
          modelName: h.name('wide_count'),
          kind: 'indirectly_modified',
          category: 'breaking',
        }),
      ]);
      expect(starred.json.backfills.map((entry) => entry.modelName)).toEqual([
        h.name('wide'),
        h.name('wide_count'),
      ]);
      expect(await h.tableName('wide')).not.toBe(wide);
      expect(await h.tableName('wide_count')).not.toBe(count);
      expect(await h.query('SELECT CAST(n AS INTEGER) AS n FROM {s}.wide_count')).toEqual([
        { n: 10 },
      ]);
    },
  );

  it("rebuilds a view model over its parent's new table after a non-breaking change", async () => {
    const h = await harness({
      'models/orders.sql': ORDERS(),
      'models/recent.sql': 'MODEL (name {s}.recent, kind VIEW);\nSELECT * FROM {s}.orders\n',
    });
    await applyProd(h);
    await h.write('models/orders.sql', ORDERS('CAST(t.d AS DATE) AS day, 1 AS amount, 7 AS bonus'));

    const plan = await h.plan('--auto-apply');

    expect(plan.code).toBe(0);
    expect(plan.json.changes.find((change) => change.modelName === h.name('recent'))).toMatchObject(
      {
        kind: 'indirectly_modified',
        category: 'breaking',
      },
    );
    expect(
      await h.query('SELECT DISTINCT CAST(bonus AS INTEGER) AS bonus FROM {s}.recent'),
    ).toEqual([{ bonus: 7 }]);
  });

  it('refuses --forward-only outside prod, and a forward-only model changed in dev gets its own table', async () => {
    const h = await harness({ 'models/orders.sql': ORDERS(undefined, '2024-01-05') });
    await applyProd(h);
    const table = await h.tableName('orders');
    await h.write(
      'models/orders.sql',
      ORDERS('CAST(t.d AS DATE) AS day, 1 AS amount, 10 AS bonus', '2024-01-07'),
    );

    const refused = await h.plan('dev', '--forward-only', '--auto-apply');

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--forward-only changes keep and alter the existing tables');
    expect((await h.intervals('orders')).processed).toEqual([days(1, 6)]);
    expect(await amountsOf(h, '{s}.orders')).toEqual(amounts(1, 6, 1));
    const [schema, name] = table.split('.') as [string, string];
    const columns = await h.query(
      'SELECT column_name AS name FROM information_schema.columns ' +
        `WHERE table_schema = '${schema}' AND table_name = '${name}' ORDER BY ordinal_position`,
    );
    expect(columns.map((column) => String(column.name).toLowerCase())).toEqual(['day', 'amount']);
    expect(await h.tableName('orders')).toBe(table);
  });

  it('refuses to restate in dev a version prod uses, and leaves prod unchanged', async () => {
    const h = await prodWithChangedSource();

    const dev = await h.plan('dev', ...restateJanuaryThirdAndFourth(h));

    expect(dev.code).toBe(1);
    expect(dev.stderr).toMatch(/would change the rows 'prod' shows: both use the same version/);
    expect(await amountsOf(h, '{s}.events')).toEqual(amounts(1, 11, 1));
  });

  it('restates a range in prod with --restate-model and --start/--end', async () => {
    const h = await prodWithChangedSource();

    const restated = await h.plan(...restateJanuaryThirdAndFourth(h));

    expect(restated.code).toBe(0);
    expect(await amountsOf(h, '{s}.events')).toEqual([
      ...amounts(1, 3, 1),
      ...amounts(3, 5, 10),
      ...amounts(5, 11, 1),
    ]);
  });

  it('limits a development backfill to whole intervals when --end has a time of day', async () => {
    const h = await harness({ 'models/orders.sql': ORDERS() });
    await applyProd(h);
    await h.write('models/orders.sql', ORDERS('CAST(t.d AS DATE) AS day, 2 AS amount'));

    const dev = await h.plan(
      'dev',
      '--start',
      '2024-01-03',
      '--end',
      '2024-01-05 12:00',
      '--auto-apply',
    );

    expect(dev.code).toBe(0);
    expect(await amountsOf(h, '{s}__dev.orders')).toEqual(amounts(3, 6, 2));
    expect(dev.json.backfills).toEqual([
      expect.objectContaining({ modelName: h.name('orders'), ranges: [days(3, 6)], intervals: 3 }),
    ]);
    expect((await h.intervals('orders', 'dev')).processed).toEqual([days(3, 6)]);
  });

  it('rebuilds a model selected alone once its changed parent is planned', async () => {
    const h = await harness({
      'models/a.sql': FULL('a', '1 AS n', '(SELECT 1 AS x) AS one'),
      'models/b.sql': FULL('b', 'n + 1 AS n', '{s}.a'),
    });
    await applyProd(h);
    await h.write('models/a.sql', FULL('a', '2 AS n', '(SELECT 1 AS x) AS one'));
    expect((await h.plan('--select-model', h.name('b'), '--auto-apply')).code).toBe(0);
    expect(await h.query('SELECT CAST(n AS INTEGER) AS n FROM {s}.b')).toEqual([{ n: 2 }]);

    const all = await h.plan('--auto-apply');

    expect(all.code).toBe(0);
    expect(await h.query('SELECT CAST(n AS INTEGER) AS n FROM {s}.b')).toEqual([{ n: 3 }]);
  });

  it('refuses to select a changed model without its changed parent', async () => {
    const h = await harness({
      'models/a.sql': FULL('a', '1 AS n', '(SELECT 1 AS x) AS one'),
      'models/b.sql': FULL('b', 'n + 1 AS n', '{s}.a'),
    });
    await applyProd(h);
    await h.write('models/a.sql', FULL('a', '2 AS n', '(SELECT 1 AS x) AS one'));
    await h.write('models/b.sql', FULL('b', 'n + 5 AS n', '{s}.a'));

    const refused = await h.plan('--select-model', h.name('b'), '--auto-apply');

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`add --select-model ${h.name('a')}`);
  });

  it('backfills the rest of a limited development environment when planned again', async () => {
    const h = await harness({ 'models/orders.sql': ORDERS() });
    await applyProd(h);
    await h.write('models/orders.sql', ORDERS('CAST(t.d AS DATE) AS day, 2 AS amount'));
    await h.plan('dev', '--start', '2024-01-03', '--end', '2024-01-05', '--auto-apply');

    const again = await h.plan('dev', '--auto-apply');

    expect(again.code).toBe(0);
    expect(again.json.backfills).toEqual([
      expect.objectContaining({ modelName: h.name('orders'), ranges: [days(1, 3), days(6, 11)] }),
    ]);
    expect(await amountsOf(h, '{s}__dev.orders')).toEqual(amounts(1, 11, 2));
  });

  /** Prod built from `<schema>_raw.events`, whose amounts then change from 1 to 10. */
  async function prodWithChangedSource(): Promise<Harness> {
    const h = await harness({ 'models/events.sql': COPY_OF('events', '{s}_raw.events') });
    await createRawEvents(h);
    await applyProd(h);
    await h.execute('UPDATE {s}_raw.events SET amount = 10');
    return h;
  }

  function restateJanuaryThirdAndFourth(h: Harness): string[] {
    return [
      '--restate-model',
      h.name('events'),
      '--start',
      '2024-01-03',
      '--end',
      '2024-01-04',
      '--auto-apply',
    ];
  }

  /** The source table `<schema>_raw.events`: one row per day of 2024-01-01..10, amount 1. */
  async function createRawEvents(h: Harness) {
    await h.execute('CREATE SCHEMA {s}_raw');
    await h.execute(
      `CREATE TABLE {s}_raw.events AS
       SELECT CAST(t.d AS DATE) AS day, 1 AS amount
       FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-10', INTERVAL '1 day') AS t(d)`,
    );
  }
});
