// Writes a synthetic project of N SQL models for the load benchmark. Each model joins two earlier
// models (the first two read an external source), uses a CTE and two window functions, and half
// of them are incremental by time range with macro variables in the query.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A small deterministic generator, so every run builds the same project. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const name = (index) => `bench.model_${String(index).padStart(5, '0')}`;

function parentsOf(index, next) {
  if (index < 2) return ['raw.events', 'raw.events'];
  const first = Math.floor(next() * index);
  let second = Math.floor(next() * index);
  if (second === first) second = (first + 1) % index;
  return [name(first), name(second)];
}

function modelFile(index, next) {
  const [left, right] = parentsOf(index, next);
  const isIncremental = index % 2 === 0;
  const kind = isIncremental
    ? 'INCREMENTAL_BY_TIME_RANGE (time_column event_ts, batch_size 7)'
    : 'FULL';
  const filter = isIncremental ? 'WHERE a.event_ts BETWEEN @start_ts AND @end_ts' : '';
  return `MODEL (
  name ${name(index)},
  kind ${kind},
  cron '@daily',
  grain (id, event_ts),
  tags [generated, benchmark],
  description 'Generated model ${index}'
);

-- Combines two upstream models and ranks each id's events.
WITH joined AS (
  SELECT
    a.id,
    a.event_ts,
    a.amount + COALESCE(b.amount, 0) AS amount,
    CASE WHEN a.amount > ${index % 97} THEN 'high' ELSE 'low' END AS bucket
  FROM ${left} AS a
  LEFT JOIN ${right} AS b ON a.id = b.id AND a.event_ts = b.event_ts
  ${filter}
)
SELECT
  id,
  event_ts,
  amount,
  bucket,
  SUM(amount) OVER (PARTITION BY id ORDER BY event_ts) AS running_amount,
  ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY amount DESC) AS rank_in_bucket
FROM joined
WHERE amount IS NOT NULL
`;
}

/** Generates the project in `dir` (removed first). */
export async function generateProject(dir, modelCount) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'models'), { recursive: true });
  await writeFile(
    join(dir, 'sluice.yaml'),
    "name: bench\nmodel_defaults:\n  dialect: duckdb\n  start: '2024-01-01'\n",
  );
  await writeFile(
    join(dir, 'external_models.yaml'),
    '- name: raw.events\n  columns:\n    id: INTEGER\n    event_ts: TIMESTAMP\n    amount: DOUBLE\n',
  );
  const next = random(42);
  for (let index = 0; index < modelCount; index++) {
    await writeFile(join(dir, 'models', `model_${index}.sql`), modelFile(index, next));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = 'bench/out/project', count = '5000'] = process.argv.slice(2);
  await generateProject(dir, Number(count));
  console.log(`wrote ${count} models to ${dir}`);
}
