import type { Logger } from '../../core/logger.js';
import {
  defaultSettingsOf,
  listEnvironmentSettings,
  listPausedModels,
} from '../../state/environment-settings.js';
import {
  type EnvironmentRecord,
  isExpired,
  listEnvironments,
} from '../../state/environment-store.js';
import { readSnapshots } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { buildSchedule, type EnvironmentSchedule, leftOutModels } from './cadence-schedule.js';

/**
 * Which environments the cadence runs now, read from the state store on each pass: prod and the
 * development environments that opted in, unless paused or expired. Each environment's schedule
 * is kept until its revision changes, so a pass reads only the environments, their settings and
 * the paused models, and decrypts snapshots only after a promotion.
 */

/** An environment the cadence runs, with the models it leaves out (paused and downstream). */
export type CadenceTarget = {
  readonly schedule: EnvironmentSchedule;
  readonly leftOut: ReadonlySet<string>;
};

/** Reads the cadence's environments, keeping their schedules by revision. */
export class CadenceTargets {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #schedules = new Map<string, EnvironmentSchedule>();

  constructor(store: StateStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** The environments in the cadence at `nowMs`, by name. */
  async read(nowMs: number): Promise<CadenceTarget[]> {
    const environments = await this.#cadenceEnvironments(nowMs);
    const paused = await listPausedModels(this.#store);

    const targets: CadenceTarget[] = [];
    for (const environment of environments) {
      const schedule = await this.#scheduleOf(environment);
      const pausedHere = paused
        .filter((model) => model.environment === environment.name)
        .map((model) => model.modelName);
      targets.push({ schedule, leftOut: leftOutModels(schedule, pausedHere) });
    }
    this.#forgetOthers(environments);
    return targets;
  }

  async #cadenceEnvironments(nowMs: number): Promise<EnvironmentRecord[]> {
    const environments = await listEnvironments(this.#store);
    const settings = await listEnvironmentSettings(this.#store);
    const now = new Date(nowMs);
    return environments.filter((environment) => {
      const each = settings.get(environment.name) ?? defaultSettingsOf(environment.name);
      return each.isCadence && !each.isPaused && !isExpired(environment, now);
    });
  }

  async #scheduleOf(environment: EnvironmentRecord): Promise<EnvironmentSchedule> {
    const cached = this.#schedules.get(environment.name);
    if (cached?.revision === environment.revision) return cached;

    const snapshots = await readSnapshots(this.#store, Object.values(environment.snapshotIds));
    const schedule = buildSchedule(environment.name, environment.revision, snapshots.values());
    for (const model of schedule.unscheduled) {
      this.#logger.warn(
        { environment: environment.name, model: model.modelName, reason: model.reason },
        'model left out of the cadence: its cron cannot be read',
      );
    }
    this.#schedules.set(environment.name, schedule);
    return schedule;
  }

  #forgetOthers(kept: readonly EnvironmentRecord[]): void {
    const names = new Set(kept.map((environment) => environment.name));
    for (const name of this.#schedules.keys()) {
      if (!names.has(name)) this.#schedules.delete(name);
    }
  }
}
