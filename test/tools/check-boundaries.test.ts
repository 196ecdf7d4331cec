import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, LAYER_RULES } from '../../tools/check-boundaries.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('../../tools/check-boundaries.mjs', import.meta.url));
const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/boundaries/${name}`, import.meta.url));

type Expected = {
  readonly fixture: string;
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly fromLayer: string;
  readonly toLayer?: string;
  readonly module?: string;
};

const forbidden: readonly Expected[] = [
  {
    fixture: 'scheduler-imports-engines',
    file: 'src/scheduler/api.ts',
    line: 1,
    specifier: '../engines/duckdb/adapter.js',
    fromLayer: 'scheduler',
    toLayer: 'engines',
  },
  {
    fixture: 'core-imports-fs',
    file: 'src/core/fingerprint.ts',
    line: 1,
    specifier: 'node:fs',
    fromLayer: 'core',
    module: 'node:fs',
  },
  {
    fixture: 'core-imports-pg',
    file: 'src/core/plan.ts',
    line: 2,
    specifier: 'pg',
    fromLayer: 'core',
    module: 'pg',
  },
  {
    fixture: 'sql-imports-project',
    file: 'src/sql/render.ts',
    line: 1,
    specifier: '../project/load.js',
    fromLayer: 'sql',
    toLayer: 'project',
  },
  {
    fixture: 'executor-imports-scheduler',
    file: 'src/executor/runner.ts',
    line: 2,
    specifier: '../scheduler/task-queue.js',
    fromLayer: 'executor',
    toLayer: 'scheduler',
  },
  {
    fixture: 'executor-imports-state',
    file: 'src/executor/runner.ts',
    line: 2,
    specifier: '../state/state-store.js',
    fromLayer: 'executor',
    toLayer: 'state',
  },
  {
    fixture: 'engines-imports-scheduler',
    file: 'src/engines/postgres/adapter.ts',
    line: 2,
    specifier: '../../scheduler/cadence.js',
    fromLayer: 'engines',
    toLayer: 'scheduler',
  },
  {
    fixture: 'protocol-imports-state',
    file: 'src/protocol/run.ts',
    line: 1,
    specifier: '../state/run-store.js',
    fromLayer: 'protocol',
    toLayer: 'state',
  },
  {
    fixture: 'scheduler-imports-executor',
    file: 'src/scheduler/loop.ts',
    line: 1,
    specifier: '../executor/task-runner.js',
    fromLayer: 'scheduler',
    toLayer: 'executor',
  },
  {
    fixture: 'anything-imports-cli',
    file: 'src/gateway/credential-store.ts',
    line: 1,
    specifier: '../cli/output.js',
    fromLayer: 'gateway',
    toLayer: 'cli',
  },
  {
    fixture: 'dynamic-import',
    file: 'src/core/snapshot.ts',
    line: 2,
    specifier: 'node:fs',
    fromLayer: 'core',
    module: 'node:fs',
  },
  {
    fixture: 'export-from',
    file: 'src/executor/index.ts',
    line: 5,
    specifier: '../state/run-store.js',
    fromLayer: 'executor',
    toLayer: 'state',
  },
  {
    fixture: 'type-only',
    file: 'src/scheduler/planner.ts',
    line: 4,
    specifier: '../engines/engine-adapter.js',
    fromLayer: 'scheduler',
    toLayer: 'engines',
  },
];

describe('checkBoundaries', () => {
  it.each(forbidden)('reports exactly one violation in the $fixture fixture', (expected) => {
    const { fixture: name, ...violation } = expected;

    const violations = checkBoundaries(fixture(name));

    expect(violations).toEqual([{ ...violation, rule: expect.any(String) }]);
  });

  it('explains a forbidden module with the layer rule that forbids it', () => {
    const [violation] = checkBoundaries(fixture('core-imports-fs'));

    expect(violation?.rule).toBe('core is pure domain: no I/O');
  });

  it('explains a forbidden layer with the layers that are allowed', () => {
    const [violation] = checkBoundaries(fixture('scheduler-imports-engines'));

    expect(violation?.rule).toContain('scheduler may import protocol, state, project, sql, core');
  });

  it('accepts legal imports, comments, strings and test files in the allowed fixture', () => {
    expect(checkBoundaries(fixture('allowed'))).toEqual([]);
  });

  it('finds no violation in the repository source tree', () => {
    expect(checkBoundaries(repoRoot)).toEqual([]);
  });

  it('reads the layers from the folder given as srcDir and names files from the root', () => {
    const violations = checkBoundaries(fixture(''), { srcDir: 'core-imports-fs/src' });

    expect(violations.map((violation) => [violation.file, violation.fromLayer])).toEqual([
      ['core-imports-fs/src/core/fingerprint.ts', 'core'],
    ]);
  });

  it('rejects a root without a source folder', () => {
    expect(() => checkBoundaries(fixture('core-imports-fs'), { srcDir: 'lib' })).toThrow(
      "No source folder 'lib'",
    );
  });

  it('lets no layer but cli import cli', () => {
    const importersOfCli = Object.entries(LAYER_RULES)
      .filter(([, rule]) => rule.imports.includes('cli'))
      .map(([layer]) => layer);

    expect(importersOfCli).toEqual([]);
  });
});

describe('check-boundaries script', () => {
  it('prints each violation and exits with 1 when a boundary is crossed', () => {
    const result = spawnSync(process.execPath, [script, fixture('core-imports-fs')], {
      encoding: 'utf8',
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "src/core/fingerprint.ts:1: core may not import 'node:fs' (core is pure domain: no I/O)\n",
    );
  });

  it('prints a one-line summary and exits with 0 when every boundary holds', () => {
    const result = spawnSync(process.execPath, [script, fixture('allowed')], { encoding: 'utf8' });

    expect(result.status).toBe(0);
    expect(result.stdout).toBe('Import boundaries hold in 13 source files.\n');
  });
});
