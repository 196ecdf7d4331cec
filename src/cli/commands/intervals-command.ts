import { checkEnvironmentName, PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { unitsBetween } from '../../core/intervals/interval-unit.js';
import { expectedRange } from '../../core/intervals/model-intervals.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import { type Snapshot, upkeepOf, versionIdOf } from '../../core/snapshot.js';
import { findModel } from '../../project/model-renderer.js';
import { loadProject } from '../../project/project-loader.js';
import { dueWorkOf } from '../../scheduler/runs/due-work.js';
import { readEnvironment } from '../../state/environment-store.js';
import { readSnapshots, readVersions } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { readProcessedRanges } from '../../state/version-intervals.js';
import type { CommandContext } from '../output.js';
import { projectVersions } from '../project-run-setup.js';
import type { StateCliOptions } from '../state-context.js';
import { formatRange, rangeJson } from '../time-ranges.js';
import { withStore } from '../with-state.js';

export type IntervalsCommandOptions = StateCliOptions & {
  readonly format?: string;
  readonly env?: string;
};

/**
 * `sluice intervals MODEL [--env ENV]`: the processed and missing ranges of the model's version
 * in the environment (default prod), or of the project's current version when the environment
 * does not hold the model, as the state store records them and as a run would compute them now.
 */
export async function intervalsCommand(
  context: CommandContext,
  modelName: string,
  options: IntervalsCommandOptions,
): Promise<void> {
  const format = options.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new SluiceError('usage', `Unknown format '${format}'; use one of: text, json`);
  }
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const model = findModel(project, modelName);
  const { snapshots } = await projectVersions(project);
  if (upkeepOf(model.kind) !== 'intervals') {
    throw new SluiceError(
      'usage',
      `Model '${model.name}' is a ${model.kind.name} model, which has no intervals; ` +
        'intervals belong to FULL, incremental and SCD_TYPE_2 models',
    );
  }

  const nowMs = Date.now();
  const environment = checkEnvironmentName(options.env ?? PROD);
  const report = await withStore(context, options, true, async (store) => {
    const inEnvironment = await findEnvironmentSnapshot(store, environment, model.name);
    const snapshot = inEnvironment ?? snapshots.get(model.name);
    if (snapshot === undefined) throw new SluiceError('internal', `No snapshot of '${model.name}'`);
    const versionId = versionIdOf(snapshot);
    const processed = (await readProcessedRanges(store, [versionId])).get(versionId) ?? [];
    const version = (await readVersions(store, [versionId])).get(versionId);
    const progress = { isTableCreated: version?.tableCreatedAt !== undefined, processed };
    return { snapshot, processed, ...dueWorkOf(snapshot, progress, nowMs) };
  });
  const snapshot = report.snapshot;
  const settings = report.settings;
  if (settings === undefined) throw new SluiceError('internal', 'Interval settings are missing');
  const expected = expectedRange(settings, nowMs);
  const count = (ranges: readonly TimeRange[]) =>
    ranges.reduce((sum, [start, end]) => sum + unitsBetween(start, end, settings.unit), 0);

  if (format === 'json') {
    context.output.stdout.write(
      `${JSON.stringify(
        {
          model: model.name,
          version: snapshot.version,
          table: snapshot.table,
          intervalUnit: settings.unit,
          expected: expected === undefined ? null : rangeJson(expected),
          processed: report.processed.map(rangeJson),
          missing: report.missing.map(rangeJson),
          missingIntervals: count(report.missing),
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  printText(context, snapshot, { ...report, expected, unit: settings.unit, count });
}

function printText(
  context: CommandContext,
  snapshot: Snapshot,
  report: {
    readonly processed: readonly TimeRange[];
    readonly missing: readonly TimeRange[];
    readonly expected: TimeRange | undefined;
    readonly unit: string;
    readonly count: (ranges: readonly TimeRange[]) => number;
  },
): void {
  const out = context.output.stdout;
  const table =
    snapshot.table === undefined ? '' : ` (${snapshot.table.schema}.${snapshot.table.name})`;
  out.write(`Model ${snapshot.name}, version ${snapshot.version}${table}\n`);
  const expected = report.expected === undefined ? 'none yet' : formatRange(report.expected);
  out.write(`Interval unit ${report.unit}; expected ${expected}\n`);
  const section = (title: string, ranges: readonly TimeRange[]) => {
    const plural = ranges.length === 1 ? 'range' : 'ranges';
    out.write(
      `${title}: ${report.count(ranges).toLocaleString('en')} intervals ` +
        `in ${ranges.length} ${plural}\n`,
    );
    for (const range of ranges) out.write(`  ${formatRange(range)}\n`);
  };
  section('Processed', report.processed);
  section('Missing', report.missing);
}

/** The environment's snapshot of the model, or undefined when it has none. */
async function findEnvironmentSnapshot(
  store: StateStore,
  environment: string,
  modelName: string,
): Promise<Snapshot | undefined> {
  const record = await readEnvironment(store, environment);
  const id = record?.snapshotIds[modelName];
  if (id === undefined) return undefined;
  return (await readSnapshots(store, [id])).get(id);
}
