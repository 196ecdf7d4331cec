import { checkEnvironmentName, PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { IDENTIFIER_LIMIT_BYTES } from '../../core/physical-table.js';
import { loadProject } from '../../project/project-loader.js';
import { rollbackEnvironment } from '../../scheduler/plans/rollback.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { localActor } from '../client-access.js';
import { withInterrupt } from '../interrupt.js';
import { localPlanExecutor } from '../local-plan-executor.js';
import type { CommandContext } from '../output.js';
import { projectVersions, withEngine } from '../project-run-setup.js';
import { RunReporter } from '../run-reporter.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

/**
 * `sluice rollback ENV`: points the environment's views back at the versions it held before its
 * last promotion, recomputing nothing, then evaluates the intervals those versions missed.
 */
export async function rollbackCommand(
  context: CommandContext,
  environment: string,
  options: StateCliOptions,
): Promise<void> {
  const name = checkEnvironmentName(environment);
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const { gateway } = await projectVersions(project);
  const reporter = new RunReporter(context.output, 'text', 0);

  const result = await withStore(context, options, true, (store) =>
    withEngine(project, gateway, async (adapter) => {
      const parser = await createSqlParser();
      try {
        return await withInterrupt((signal) =>
          rollbackEnvironment(name, {
            store,
            executor: localPlanExecutor({
              store,
              adapter,
              parser,
              slots: 4,
              signal,
              logger: context.logger,
              onEvent: (event) => reporter.onEvent(event),
            }),
            scope: { projectName: project.config.name, gateway: gateway.name },
            identifierLimitBytes: IDENTIFIER_LIMIT_BYTES[gateway.type],
            ttlMs: name === PROD ? undefined : project.config.environmentTtlMs,
            logger: context.logger,
            actor: localActor(),
          }),
        );
      } finally {
        await parser.close();
      }
    }),
  );

  context.output.stdout.write(
    `Rolled back '${name}' to its previous ${result.restoredModels} models ` +
      `(revision ${result.revision}).\n`,
  );
  const failed = result.models.filter((model) => model.outcome === 'failed');
  if (failed.length > 0) {
    throw new SluiceError(
      'run_failed',
      `The views were rolled back, but catching up failed for ${failed
        .map((model) => `'${model.modelName}'`)
        .join(', ')}; run 'sluice run ${name}' once the cause is fixed`,
    );
  }
}
