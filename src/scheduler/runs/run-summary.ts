import { SluiceError } from '../../core/errors.js';
import type { RunRecord } from '../../state/runs/run-store.js';
import type { ModelResult } from './run-state.js';

/**
 * What a finished run recorded about its models, as the run service writes it into the run's
 * summary: `{ models: ModelResult[] }`, with the revision and whether it promoted for applies.
 */

/** The model results a run recorded; empty while it runs or when it recorded none. */
export function modelResultsOf(run: RunRecord): readonly ModelResult[] {
  const summary = run.summary as { readonly models?: readonly ModelResult[] } | undefined;
  return summary?.models ?? [];
}

/** The models a finished run failed or skipped; an error when there are none to run again. */
export function modelsToRunAgain(run: RunRecord): string[] {
  checkFinished(run);
  const names = modelResultsOf(run)
    .filter((model) => model.outcome === 'failed' || model.outcome === 'skipped')
    .map((model) => model.modelName);
  if (names.length === 0) {
    throw new SluiceError(
      'usage',
      `Run ${run.id} has no failed or skipped models to run again ('sluice runs show ${run.id}' ` +
        'shows its results)',
    );
  }
  return names;
}

/** Refuses to run again what a run still running may yet do. */
export function checkFinished(run: RunRecord): void {
  if (run.status !== 'running') return;
  throw new SluiceError(
    'usage',
    `Run ${run.id} is still running; wait for it to end, or cancel it, before running again ` +
      'what it failed',
  );
}
