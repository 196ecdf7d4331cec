import { type CronSchedule, parseCronSchedule } from '../../core/intervals/cron-schedule.js';
import { type Snapshot, upkeepOf } from '../../core/snapshot.js';

/**
 * An environment's schedule as the cadence loop reads it: its models that are evaluated over
 * intervals, grouped by cron (many models share a few crons), and who reads whom, for leaving
 * out the models downstream of a paused one. Models of other kinds (views, seeds, external and
 * embedded models) have no due intervals, so no cron of theirs starts a run. Built once per
 * revision of the environment.
 */

/** The models that share one cron and time zone. */
export type CronGroup = { readonly cron: CronSchedule; readonly modelNames: readonly string[] };

/** A model whose cron could not be read; it is left out of the cadence. */
export type UnscheduledModel = { readonly modelName: string; readonly reason: string };

/** One revision of an environment, as the cadence sees it. */
export type EnvironmentSchedule = {
  readonly environment: string;
  readonly revision: number;
  readonly groups: readonly CronGroup[];
  /** For each model, the models of the environment that read it directly. */
  readonly readers: ReadonlyMap<string, readonly string[]>;
  readonly unscheduled: readonly UnscheduledModel[];
};

/** Models whose cron ticked in a window, and the latest of those ticks. */
export type TickedModels = {
  readonly modelNames: readonly string[];
  readonly latestTickMs: number | undefined;
};

/** Builds the schedule of an environment's snapshots. */
export function buildSchedule(
  environment: string,
  revision: number,
  snapshots: Iterable<Snapshot>,
): EnvironmentSchedule {
  const byCron = new Map<string, { cron: CronSchedule; modelNames: string[] }>();
  const readers = new Map<string, string[]>();
  const unscheduled: UnscheduledModel[] = [];

  for (const { model } of snapshots) {
    for (const parent of model.dependencies) {
      readers.set(parent, [...(readers.get(parent) ?? []), model.name]);
    }
    if (upkeepOf(model.kind) !== 'intervals') continue;

    let cron: CronSchedule;
    try {
      cron = parseCronSchedule(model.cron, model.cronTimeZone, model.name);
    } catch (error) {
      unscheduled.push({ modelName: model.name, reason: messageOf(error) });
      continue;
    }
    const key = `${cron.timeZone}\n${cron.expression}`;
    const group = byCron.get(key) ?? { cron, modelNames: [] };
    group.modelNames.push(model.name);
    byCron.set(key, group);
  }
  return { environment, revision, groups: [...byCron.values()], readers, unscheduled };
}

/** Every scheduled model of the environment, sorted. */
export function scheduledModels(schedule: EnvironmentSchedule): string[] {
  return schedule.groups.flatMap((group) => group.modelNames).sort();
}

/** The models of `among` whose cron ticked after `afterMs` and at or before `atMs`, sorted. */
export function tickedModels(
  schedule: EnvironmentSchedule,
  among: ReadonlySet<string>,
  window: { readonly afterMs: number; readonly atMs: number },
): TickedModels {
  const modelNames: string[] = [];
  let latestTickMs: number | undefined;
  for (const group of schedule.groups) {
    const names = group.modelNames.filter((name) => among.has(name));
    if (names.length === 0) continue;
    const tickMs = group.cron.latestTickAtOrBefore(window.atMs);
    if (tickMs === undefined || tickMs <= window.afterMs) continue;
    modelNames.push(...names);
    latestTickMs = Math.max(latestTickMs ?? tickMs, tickMs);
  }
  return { modelNames: modelNames.sort(), latestTickMs };
}

/** The first tick of any of the environment's crons after `afterMs`, if any will come. */
export function nextTickOf(schedule: EnvironmentSchedule, afterMs: number): number | undefined {
  let nextMs: number | undefined;
  for (const group of schedule.groups) {
    const tickMs = group.cron.nextTickAfter(afterMs);
    if (tickMs !== undefined) nextMs = Math.min(nextMs ?? tickMs, tickMs);
  }
  return nextMs;
}

/** The paused models and every model downstream of one: what the cadence leaves out. */
export function leftOutModels(
  schedule: EnvironmentSchedule,
  pausedModelNames: Iterable<string>,
): Set<string> {
  const leftOut = new Set<string>();
  const pending = [...pausedModelNames];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (leftOut.has(name)) continue;
    leftOut.add(name);
    pending.push(...(schedule.readers.get(name) ?? []));
  }
  return leftOut;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
