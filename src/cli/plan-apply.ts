import { PROD } from '../core/environments.js';
import { SluiceError } from '../core/errors.js';
import { IDENTIFIER_LIMIT_BYTES } from '../core/physical-table.js';
import type { Plan } from '../core/plan.js';
import type { Snapshot } from '../core/snapshot.js';
import type { Project } from '../project/project.js';
import type { GatewayConfig } from '../project/project-config.js';
import { type ApplyContext, applyPlan } from '../scheduler/plans/apply-plan.js';
import type { ModelResult } from '../scheduler/runs/run-coordinator.js';
import { createSqlParser } from '../sql/sql-parser.js';
import type { StateStore } from '../state/state-store.js';
import type { SchedulerApiClient } from './api-client.js';
import { localActor } from './client-access.js';
import { withInterrupt } from './interrupt.js';
import { localPlanExecutor } from './local-plan-executor.js';
import type { CommandContext } from './output.js';
import { withEngine } from './project-run-setup.js';
import {
  followRemoteRun,
  remoteModelResults,
  remoteRunError,
  startRemoteApply,
} from './remote-runs.js';
import { RunReporter } from './run-reporter.js';

/** Tasks run at once while a plan is applied. */
const APPLY_SLOTS = 4;

/** What applying a plan from the CLI needs. */
export type CliApply = {
  readonly project: Project;
  readonly gateway: GatewayConfig;
  readonly store: StateStore;
  readonly plan: Plan;
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  readonly forwardOnlyIds: ReadonlySet<string>;
  readonly order: readonly string[];
  /** Whether progress is printed (text) or kept quiet (JSON). */
  readonly isQuiet: boolean;
};

/**
 * Applies a plan in this process on the project's default gateway, printing progress like a
 * run, and fails with a message naming the models that failed; the views stay as they were then.
 */
export async function applyFromCli(context: CommandContext, apply: CliApply): Promise<number> {
  const reporter = new RunReporter(
    context.output,
    apply.isQuiet ? 'json' : 'text',
    apply.snapshots.size,
  );
  const result = await withEngine(apply.project, apply.gateway, async (adapter) => {
    const parser = await createSqlParser();
    try {
      return await withInterrupt((signal) => {
        const applyContext: ApplyContext = {
          store: apply.store,
          executor: localPlanExecutor({
            store: apply.store,
            adapter,
            parser,
            slots: APPLY_SLOTS,
            signal,
            logger: context.logger,
            onEvent: (event) => reporter.onEvent(event),
          }),
          scope: { projectName: apply.project.config.name, gateway: apply.gateway.name },
          order: apply.order,
          identifierLimitBytes: IDENTIFIER_LIMIT_BYTES[apply.gateway.type],
          ttlMs:
            apply.plan.environment === PROD ? undefined : apply.project.config.environmentTtlMs,
          logger: context.logger,
          actor: localActor(),
        };
        return applyPlan(apply.plan, apply.snapshots, apply.forwardOnlyIds, applyContext);
      });
    } finally {
      await parser.close();
    }
  });

  if (!result.isPromoted) throw applyFailure(result.models, apply.plan.environment);
  return result.revision ?? 0;
}

/**
 * Applies a plan the Scheduler stores: starts the apply, prints its progress as the local mode
 * does, and fails with the same message when models failed.
 */
export async function applyRemotely(
  context: CommandContext,
  api: SchedulerApiClient,
  plan: Plan,
  options: { readonly isQuiet: boolean },
): Promise<number> {
  const modelCount = Object.keys(plan.snapshotIds).length;
  const reporter = new RunReporter(context.output, options.isQuiet ? 'json' : 'text', modelCount);
  const runId = await startRemoteApply(api, plan);
  const run = await followRemoteRun(api, runId, (event) => reporter.onEvent(event));

  const summary = run.summary as { isPromoted?: boolean; revision?: number } | null;
  if (summary?.isPromoted === true) return summary.revision ?? 0;
  throw remoteRunError(run) ?? applyFailure(remoteModelResults(run), plan.environment);
}

/** The error of an apply whose models did not all succeed; the views stay as they were. */
function applyFailure(models: readonly ModelResult[], environment: string): SluiceError {
  const failed = models.filter((model) => model.outcome === 'failed');
  const details = failed
    .map((model) => `'${model.modelName}': ${model.error?.message ?? 'failed'}`)
    .join('; ');
  return new SluiceError(
    'run_failed',
    `The plan was not applied: ${failed.length} ${failed.length === 1 ? 'model' : 'models'} ` +
      `failed (${details}). Environment '${environment}' is unchanged; what was ` +
      `built is kept. Fix the models and run 'sluice plan ${environment}' again`,
  );
}
