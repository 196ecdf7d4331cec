/**
 * What the cadence loop asks for when models' crons tick. The loop never evaluates anything: it
 * hands each request to a `CadenceRunStarter`, which the run service implements.
 */

/** A run of some models of one environment, asked for by the cadence loop. */
export type CadenceRunRequest = {
  readonly environment: string;
  /** The models whose cron ticked; the run also checks their due work. */
  readonly modelNames: readonly string[];
  /** The tick: the run's clock. */
  readonly nowMs: number;
};

/**
 * Starts (queues) the run a request asks for. It resolves once the run is asked for, not when it
 * finishes, since the loop waits for it before going on; a rejection is logged and the loop goes
 * on with the next tick.
 */
export type CadenceRunStarter = (request: CadenceRunRequest) => Promise<void>;
