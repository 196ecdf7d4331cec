import { createInterface } from 'node:readline/promises';
import { checkEnvironmentName, PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import { IDENTIFIER_LIMIT_BYTES } from '../../core/physical-table.js';
import { hasWork, type Plan, type PlanOptions } from '../../core/plan.js';
import { parseUserInterval } from '../../core/time.js';
import { findModel } from '../../project/model-renderer.js';
import type { Project } from '../../project/project.js';
import { loadProject } from '../../project/project-loader.js';
import { makePlan } from '../../scheduler/plans/make-plan.js';
import { savePlan } from '../../state/plan-store.js';
import { saveSnapshots } from '../../state/snapshot-store.js';
import { SchedulerApiClient } from '../api-client.js';
import { remoteSettingsOf } from '../client-access.js';
import type { CommandContext } from '../output.js';
import { applyFromCli, applyRemotely } from '../plan-apply.js';
import { formatPlan, planJson, usesColour } from '../plan-printer.js';
import { projectVersions } from '../project-run-setup.js';
import { submitRemotePlan } from '../remote-runs.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

export type PlanCommandOptions = StateCliOptions & {
  readonly start?: string;
  readonly end?: string;
  readonly forwardOnly?: boolean;
  readonly restateModel?: string[];
  readonly skipBackfill?: boolean;
  readonly selectModel?: string[];
  readonly autoApply?: boolean;
  readonly format?: string;
};

/** The exit code of a plan that has changes and was not applied. */
export const EXIT_CHANGES_NOT_APPLIED = 3;

/**
 * `sluice plan [ENV]`: compares the project with the environment (a new one starts from prod),
 * shows what changed, how each change is categorised and what must be built, stores the plan,
 * and applies it: at once with --auto-apply, after a question on a terminal, never otherwise.
 * Exit code: 0 when there is nothing to do or the plan was applied, 3 when there are changes that
 * were not applied.
 */
export async function planCommand(
  context: CommandContext,
  environment: string | undefined,
  options: PlanCommandOptions,
): Promise<void> {
  const name = checkEnvironmentName(environment ?? PROD);
  const isJson = parseFormat(options.format);
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const planOptions = planOptionsOf(project, options);
  const remote = remoteSettingsOf(process.env);
  if (remote !== undefined) {
    const api = new SchedulerApiClient(remote);
    const plan = await submitRemotePlan(api, project, name, planOptions);
    await presentPlan(context, { plan, name, isJson, options }, (chosen) =>
      applyRemotely(context, api, chosen, { isQuiet: isJson }),
    );
    return;
  }

  const { gateway, snapshots } = await projectVersions(project);
  await withStore(context, options, true, async (store) => {
    const draft = await makePlan(store, {
      environment: name,
      project: snapshots,
      order: project.dag.nodes,
      identifierLimitBytes: IDENTIFIER_LIMIT_BYTES[gateway.type],
      options: planOptions,
      now: new Date(),
    });
    const hasChanges = hasWork(draft.plan);
    if (hasChanges) {
      await saveSnapshots(store, [...draft.snapshots.values()]);
      await savePlan(store, draft.plan);
    }
    await presentPlan(
      context,
      { plan: hasChanges ? draft.plan : undefined, name, isJson, options },
      (plan) =>
        applyFromCli(context, {
          project,
          gateway,
          store,
          plan,
          snapshots: draft.snapshots,
          forwardOnlyIds: draft.forwardOnlyIds,
          order: project.dag.nodes,
          isQuiet: isJson,
        }),
    );
  });
}

/**
 * Shows a plan (or that nothing changes) and applies it with `apply` when asked to: the same
 * words whether the plan was made here or by the Scheduler.
 */
async function presentPlan(
  context: CommandContext,
  shown: {
    readonly plan: Plan | undefined;
    readonly name: string;
    readonly isJson: boolean;
    readonly options: PlanCommandOptions;
  },
  apply: (plan: Plan) => Promise<number>,
): Promise<void> {
  const { plan, name, isJson, options } = shown;
  const out = context.output.stdout;
  if (plan === undefined) {
    if (isJson) out.write(`${JSON.stringify({ hasChanges: false, environment: name })}\n`);
    else out.write(`No changes: environment '${name}' matches the project; nothing to do.\n`);
    return;
  }
  if (!isJson) out.write(formatPlan(plan, usesColour(out)));

  const shouldApply = options.autoApply === true || (!isJson && (await confirm(context, name)));
  if (!shouldApply) {
    if (isJson) {
      writeJson(out, planJson(plan, { hasChanges: true, isApplied: false }));
    } else {
      out.write(
        `\nNothing was applied. To apply this plan, run 'sluice apply ${plan.id}', or ` +
          `plan again with --auto-apply.\n`,
      );
    }
    context.setExitCode?.(EXIT_CHANGES_NOT_APPLIED);
    return;
  }

  const revision = await apply(plan);
  if (isJson) {
    writeJson(out, planJson(plan, { hasChanges: true, isApplied: true }));
  } else {
    out.write(`Applied: environment '${name}' is at revision ${revision}.\n`);
  }
}

function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Asks on a terminal; without one the answer is no, and the caller says how to apply. */
async function confirm(context: CommandContext, environment: string): Promise<boolean> {
  const isTerminal =
    process.stdin.isTTY === true && (context.output.stdout as { isTTY?: boolean }).isTTY === true;
  if (!isTerminal) return false;
  const prompt = createInterface({ input: process.stdin, output: context.output.stdout });
  try {
    const answer = await prompt.question(`\nApply this plan to '${environment}'? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

function planOptionsOf(project: Project, options: PlanCommandOptions): PlanOptions {
  const names = (list: string[] | undefined) =>
    (list ?? []).map((name) => findModel(project, name).name);
  return {
    range: rangeOf(options),
    isForwardOnly: options.forwardOnly === true,
    restateModels: names(options.restateModel),
    shouldSkipBackfill: options.skipBackfill === true,
    selectModels: names(options.selectModel),
  };
}

function rangeOf(options: PlanCommandOptions): TimeRange | undefined {
  if (options.start === undefined && options.end === undefined) return undefined;
  if (options.start === undefined || options.end === undefined) {
    throw new SluiceError('usage', 'Give --start and --end together to limit the backfill');
  }
  const interval = parseUserInterval(options.start, options.end);
  return [interval.start.getTime(), interval.end.getTime()];
}

function parseFormat(format: string | undefined): boolean {
  if (format === undefined || format === 'text') return false;
  if (format === 'json') return true;
  throw new SluiceError('usage', `Unknown format '${format}'; use one of: text, json`);
}
