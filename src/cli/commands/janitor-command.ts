import { SluiceError } from '../../core/errors.js';
import { IDENTIFIER_LIMIT_BYTES } from '../../core/physical-table.js';
import type { TableName } from '../../core/table-resolver.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import { loadProject } from '../../project/project-loader.js';
import {
  type JanitorContext,
  type JanitorReport,
  runJanitor,
} from '../../scheduler/janitor/run-janitor.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { withInterrupt } from '../interrupt.js';
import { runLocalCleanup } from '../local-cleanup-executor.js';
import type { CommandContext } from '../output.js';
import { defaultGatewayOf, withEngine } from '../project-run-setup.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

/** Options of `sluice janitor`. */
export type JanitorCliOptions = StateCliOptions & { readonly dryRun?: boolean };

/**
 * `sluice janitor [--dry-run]`: drops the views of expired environments and the tables no live
 * environment has used for the project's `table_ttl`, on the default gateway, and prints what it
 * dropped; with `--dry-run` it prints what it would drop and changes nothing.
 */
export async function janitorCommand(
  context: CommandContext,
  options: JanitorCliOptions,
): Promise<void> {
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const gateway = defaultGatewayOf(project);
  const isDryRun = options.dryRun === true;

  const report = await withStore(context, options, true, async (store) => {
    const base = {
      store,
      identifierLimitBytes: IDENTIFIER_LIMIT_BYTES[gateway.type],
      tableTtlMs: project.config.tableTtlMs,
      logger: context.logger,
    };
    if (isDryRun) return runJanitor({ ...base, runCleanup: refuseCleanup }, true);
    return withEngine(project, gateway, (adapter) => runWithEngine(base, adapter, context));
  });

  printReport(context, report);
  const failures = countFailures(report);
  if (failures > 0) {
    throw new SluiceError(
      'engine_error',
      `The janitor could not drop ${failures} of the objects above; what it dropped is ` +
        "recorded, the rest is as it was. Fix the cause shown, then run 'sluice janitor' again",
    );
  }
}

async function runWithEngine(
  base: Omit<JanitorContext, 'runCleanup'>,
  adapter: EngineAdapter,
  context: CommandContext,
): Promise<JanitorReport> {
  const parser = await createSqlParser();
  try {
    return await withInterrupt((signal) =>
      runJanitor(
        {
          ...base,
          runCleanup: (task) =>
            runLocalCleanup(task, { adapter, parser, signal, logger: context.logger }),
        },
        false,
      ),
    );
  } finally {
    await parser.close();
  }
}

async function refuseCleanup(): Promise<never> {
  throw new SluiceError('internal', 'A dry run of the janitor tried to drop something');
}

function printReport(context: CommandContext, report: JanitorReport): void {
  const out = context.output.stdout;
  const verb = report.isDryRun ? 'would drop' : 'dropped';
  if (report.environments.length + report.tables.length + report.waitingTables.length === 0) {
    out.write('Nothing to clean up: every environment is live and every table is in use.\n');
  }

  if (report.environments.length > 0)
    out.write(`Expired environments (${report.environments.length}):\n`);
  for (const environment of report.environments) {
    const views = environment.views.length === 1 ? '1 view' : `${environment.views.length} views`;
    out.write(`  ${environment.name}: ${statusText(environment, verb)} ${views}\n`);
  }

  const nowMs = Date.now();
  if (report.tables.length > 0) out.write(`Unused tables (${report.tables.length}):\n`);
  for (const table of report.tables) {
    out.write(
      `  ${table.modelName} version ${table.version} (${nameOf(table.table)}), unused for ` +
        `${durationText(nowMs - table.unusedSinceMs)}: ${statusText(table, verb)}\n`,
    );
  }

  if (report.waitingTables.length > 0) {
    out.write(
      `Unused tables kept until unused for ${durationText(report.tableTtlMs)} ` +
        `(${report.waitingTables.length}):\n`,
    );
  }
  for (const table of report.waitingTables) {
    const leftMs = table.unusedSinceMs + report.tableTtlMs - nowMs;
    out.write(
      `  ${table.modelName} version ${table.version} (${nameOf(table.table)}), unused for ` +
        `${durationText(nowMs - table.unusedSinceMs)}: can be dropped in ${durationText(leftMs)}\n`,
    );
  }
  if (report.isDryRun) out.write('Dry run: nothing was changed.\n');
}

function statusText(outcome: { status: string; reason?: string }, verb: string): string {
  if (outcome.status === 'failed') return `failed (${outcome.reason ?? 'no reason given'}), kept`;
  if (outcome.status === 'skipped') return `skipped (${outcome.reason ?? ''}), kept`;
  return verb;
}

function countFailures(report: JanitorReport): number {
  return [...report.environments, ...report.tables].filter((item) => item.status === 'failed')
    .length;
}

function nameOf(table: TableName): string {
  return table.schema === '' ? table.name : `${table.schema}.${table.name}`;
}

const UNITS: readonly [string, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** `3 days`, `1 hour`, `less than a minute`: the largest whole unit. */
function durationText(ms: number): string {
  for (const [unit, unitMs] of UNITS) {
    const count = Math.floor(ms / unitMs);
    if (count >= 1) return `${count} ${unit}${count === 1 ? '' : 's'}`;
  }
  return 'less than a minute';
}
