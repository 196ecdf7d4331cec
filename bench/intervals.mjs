// Benchmark: missing intervals of many five-minute models that start on 2000-01-01. Each model has
// processed ranges with about ten gaps; one run computes, for every model, its interval settings
// (cron parsed, unit derived, start and end resolved), its missing ranges and the first window of
// batches, at a fixed instant in 2026. Prints the median of several runs and the cost per model.
// Needs `npm run build` first. Usage: node bench/intervals.mjs [models] [repeat]
import {
  intervalSettingsOf,
  missingRanges,
  nextBatches,
} from '../dist/core/intervals/model-intervals.js';

const NOW_MS = Date.UTC(2026, 2, 15, 10, 32, 17);
const START_MS = Date.UTC(2000, 0, 1);
const FIVE_MINUTES_MS = 300_000;
const GAPS_PER_MODEL = 10;
const WINDOW = 100;

/** A deterministic pseudo-random sequence, so every run sees the same gaps. */
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function model(index, cronTimeZone) {
  return {
    name: `bench.model_${index}`,
    kind: {
      name: 'INCREMENTAL_BY_TIME_RANGE',
      timeColumn: 'ts',
      timeColumnFormat: undefined,
      batchSize: 12,
      lookback: 1,
      isForwardOnly: false,
    },
    cron: '*/5 * * * *',
    cronTimeZone,
    intervalUnit: undefined,
    start: '2000-01-01',
    end: undefined,
    allowsPartials: false,
  };
}

/** Processed ranges from 2000 to about an hour before now, with gaps of 5 minutes to ~3 days. */
function processedRanges(index) {
  const next = random(index + 1);
  const lastMs = NOW_MS - 3_600_000;
  const slots = Math.floor((lastMs - START_MS) / FIVE_MINUTES_MS);
  const gapStarts = Array.from({ length: GAPS_PER_MODEL }, () => Math.floor(next() * slots)).sort(
    (a, b) => a - b,
  );

  const ranges = [];
  let cursor = 0;
  for (const gapStart of gapStarts) {
    if (gapStart > cursor)
      ranges.push([START_MS + cursor * FIVE_MINUTES_MS, START_MS + gapStart * FIVE_MINUTES_MS]);
    cursor = Math.max(cursor, gapStart + 1 + Math.floor(next() * 900));
  }
  ranges.push([START_MS + cursor * FIVE_MINUTES_MS, START_MS + slots * FIVE_MINUTES_MS]);
  return ranges;
}

function runOnce(models, processed) {
  let settingsMs = 0;
  let missingMs = 0;
  let batchesMs = 0;
  let missingCount = 0;
  let batchCount = 0;
  for (let index = 0; index < models.length; index++) {
    const t0 = performance.now();
    const settings = intervalSettingsOf(models[index], NOW_MS);
    const t1 = performance.now();
    const missing = missingRanges(settings, processed[index], NOW_MS);
    const t2 = performance.now();
    const batches = nextBatches(settings, missing, WINDOW);
    const t3 = performance.now();
    settingsMs += t1 - t0;
    missingMs += t2 - t1;
    batchesMs += t3 - t2;
    missingCount += missing.length;
    batchCount += batches.length;
  }
  const totalMs = settingsMs + missingMs + batchesMs;
  return { totalMs, settingsMs, missingMs, batchesMs, missingCount, batchCount };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(label, modelCount, repeat, cronTimeZone) {
  const models = Array.from({ length: modelCount }, (_, index) => model(index, cronTimeZone));
  const processed = models.map((_, index) => processedRanges(index));
  const runs = Array.from({ length: repeat }, () => runOnce(models, processed));
  const totalMs = median(runs.map((run) => run.totalMs));
  return {
    case: label,
    models: modelCount,
    firstRunMs: Math.round(runs[0].totalMs),
    medianMs: Math.round(totalMs),
    settingsMs: Math.round(median(runs.map((run) => run.settingsMs))),
    missingMs: Math.round(median(runs.map((run) => run.missingMs))),
    batchesMs: Math.round(median(runs.map((run) => run.batchesMs))),
    perModelUs: Math.round((totalMs / modelCount) * 1000),
    missingRanges: runs[0].missingCount,
    batches: runs[0].batchCount,
  };
}

/** Runs the benchmark on `modelCount` models, `repeat` times; the UTC case first. */
export async function benchIntervals({ modelCount, repeat }) {
  return [
    measure("'*/5 * * * *' in UTC", modelCount, repeat, undefined),
    measure("'*/5 * * * *', cron_tz Europe/Berlin", modelCount, repeat, 'Europe/Berlin'),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const modelCount = Number(process.argv[2] ?? 1000);
  const repeat = Number(process.argv[3] ?? 7);
  console.table(await benchIntervals({ modelCount, repeat }));
}
