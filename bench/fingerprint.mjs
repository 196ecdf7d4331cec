// Benchmark: fingerprint every model of a generated project (the load benchmark's project: each
// model a CTE, two window functions and a join of two earlier models). The project is loaded once,
// untimed; each run then computes every model's canonical query, data and metadata hashes and
// version, parents first. Prints the first run and the median of several, and the cost per model.
// Needs `npm run build` first. Usage: node bench/fingerprint.mjs [models] [repeat]
import { join } from 'node:path';
import { fingerprintProject } from '../dist/project/model-fingerprints.js';
import { loadProject } from '../dist/project/project-loader.js';
import { generateProject } from './generate-project.mjs';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs the benchmark on `modelCount` generated models, `repeat` times. */
export async function benchFingerprint({ modelCount, repeat }) {
  const dir = join('bench', 'out', `fingerprint-${modelCount}`);
  await generateProject(dir, modelCount);
  const project = await loadProject(dir, { useCache: false });

  const runsMs = [];
  let fingerprints;
  for (let index = 0; index < repeat; index++) {
    const started = performance.now();
    fingerprints = await fingerprintProject(project);
    runsMs.push(performance.now() - started);
  }
  return [
    {
      models: fingerprints.size,
      runs: repeat,
      firstMs: Math.round(runsMs[0]),
      medianMs: Math.round(median(runsMs)),
      perModelUs: Math.round((median(runsMs) * 1000) / fingerprints.size),
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const modelCount = Number(process.argv[2] ?? 5000);
  const repeat = Number(process.argv[3] ?? 7);
  console.table(await benchFingerprint({ modelCount, repeat }));
}
