import {
  type IntervalSettings,
  intervalSettingsOf,
  missingRanges,
  nextBatches,
} from '../../core/intervals/model-intervals.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import { type Snapshot, upkeepOf } from '../../core/snapshot.js';

/** What a version needs now: its table created, and which intervals are missing. */
export type DueWork = {
  readonly needsCreate: boolean;
  /** The model's interval settings; undefined for kinds without intervals. */
  readonly settings: IntervalSettings | undefined;
  readonly missing: readonly TimeRange[];
};

/** What the version has done so far, as the state store records it. */
export type VersionProgress = {
  readonly isTableCreated: boolean;
  readonly processed: readonly TimeRange[];
};

/** The work due for a snapshot's version at `nowMs`, from what was processed. */
export function dueWorkOf(snapshot: Snapshot, progress: VersionProgress, nowMs: number): DueWork {
  const upkeep = upkeepOf(snapshot.model.kind);
  if (upkeep === 'none') return { needsCreate: false, settings: undefined, missing: [] };
  const needsCreate = !progress.isTableCreated;
  if (upkeep === 'once') return { needsCreate, settings: undefined, missing: [] };

  const settings = intervalSettingsOf(snapshot.model, nowMs);
  return { needsCreate, settings, missing: missingRanges(settings, progress.processed, nowMs) };
}

/**
 * The next batch to evaluate: a FULL model (and a materialised view) rebuilds its whole table, so
 * one evaluation covers everything missing; other kinds take the next unit-aligned batch of at
 * most `batch_size` intervals, which never spans a gap.
 */
export function nextBatchOf(
  snapshot: Snapshot,
  settings: IntervalSettings,
  missing: readonly TimeRange[],
): TimeRange | undefined {
  const first = missing[0];
  const last = missing.at(-1);
  if (first === undefined || last === undefined) return undefined;
  if (rebuildsWholeTable(snapshot)) return [first[0], last[1]];
  return nextBatches(settings, missing, 1)[0];
}

function rebuildsWholeTable(snapshot: Snapshot): boolean {
  const kind = snapshot.model.kind.name;
  return kind === 'FULL' || kind === 'VIEW';
}
