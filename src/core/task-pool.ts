/** Plan work (`apply`) and cadence work (`run`) queue apart, so a backfill cannot starve runs. */
export type TaskPool = 'apply' | 'run';

/** Both pools, in a fixed order. */
export const TASK_POOLS: readonly TaskPool[] = ['apply', 'run'];
