// Runs every benchmark. `--small` runs each at a small size only to prove it still works (CI).
import { benchLoadProject } from './load-project.mjs';
import { benchSeedLoad } from './seed-load.mjs';
import { benchStateBackup } from './state-backup.mjs';

const isSmall = process.argv.includes('--small');

const benchmarks = [
  {
    name: 'load, parse and order a generated project',
    run: () =>
      benchLoadProject(isSmall ? { modelCount: 50, repeat: 1 } : { modelCount: 5000, repeat: 5 }),
  },
  {
    name: "seed a CSV file: Sluice's loadSeed against the engine's own bulk load",
    run: () =>
      benchSeedLoad(isSmall ? { rows: 10_000, repeat: 1 } : { rows: 1_000_000, repeat: 5 }),
  },
  {
    name: 'back up and verify the state store, read and decrypt 10,000 payloads',
    run: () => benchStateBackup({ megabytes: isSmall ? 8 : 1024 }),
  },
];

for (const benchmark of benchmarks) {
  console.log(`\n# ${benchmark.name}${isSmall ? ' (small)' : ''}`);
  console.table(await benchmark.run());
}
