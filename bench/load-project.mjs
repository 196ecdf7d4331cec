// Benchmark: load, parse and order a generated project, cold (fresh process, no cache) and warm
// (fresh process, parser cache from the previous run). Prints the median of several runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateProject } from './generate-project.mjs';

function runOnce(dir, mode) {
  const started = performance.now();
  const output = execFileSync(process.execPath, ['bench/load-project-child.mjs', dir, mode], {
    encoding: 'utf8',
  });
  const wallMs = performance.now() - started;
  return { ...JSON.parse(output), wallMs };
}

/** The whole command as a user runs it, timed by /usr/bin/time for peak memory. */
function runCli(dir) {
  const started = performance.now();
  const result = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, 'bin/sluice.js', '--project', dir, 'dag', '--format', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`sluice dag failed: ${result.stderr}`);
  const maxRssKb = Number(result.stderr.trim().split('\n').pop());
  return {
    models: JSON.parse(result.stdout).models.length,
    wallMs,
    loadMs: Number.NaN,
    maxRssMb: maxRssKb / 1024,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function summarise(label, runs) {
  return {
    label,
    runs: runs.length,
    models: runs[0].models,
    wallMs: Math.round(median(runs.map((run) => run.wallMs))),
    loadMs: Math.round(median(runs.map((run) => run.loadMs))) || '-',
    maxRssMb: Math.round(median(runs.map((run) => run.maxRssMb))),
  };
}

/** Runs the benchmark on `modelCount` models, `repeat` times each way. */
export async function benchLoadProject({ modelCount, repeat }) {
  const dir = join('bench', 'out', `project-${modelCount}`);
  await generateProject(dir, modelCount);

  const cold = [];
  const warm = [];
  const cliCold = [];
  for (let index = 0; index < repeat; index++) {
    await rm(join(dir, '.sluice'), { recursive: true, force: true });
    cold.push(runOnce(dir, 'cold'));
    runOnce(dir, 'warm');
    warm.push(runOnce(dir, 'warm'));
    await rm(join(dir, '.sluice'), { recursive: true, force: true });
    cliCold.push(runCli(dir));
  }
  return [
    summarise('loadProject, cold (no cache)', cold),
    summarise('loadProject, warm (parser cache)', warm),
    summarise('sluice dag --format json, cold', cliCold),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const modelCount = Number(process.argv[2] ?? 5000);
  const repeat = Number(process.argv[3] ?? 5);
  console.table(await benchLoadProject({ modelCount, repeat }));
}
