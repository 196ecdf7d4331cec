import { checkEnvironmentName, PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { Snapshot } from '../../core/snapshot.js';
import { findModel } from '../../project/model-renderer.js';
import { loadProject } from '../../project/project-loader.js';
import { listEnvironmentsResponseSchema } from '../../protocol/environments-api.js';
import { sqlDiff } from '../../scheduler/plans/change-categories.js';
import {
  type EnvironmentRecord,
  expireEnvironment,
  isExpired,
  listEnvironments,
  readEnvironment,
} from '../../state/environment-store.js';
import { readSnapshots } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { SchedulerApiClient } from '../api-client.js';
import { remoteSettingsOf } from '../client-access.js';
import type { CommandContext } from '../output.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

/** What a line of `sluice environments` shows. */
type EnvironmentLine = {
  readonly name: string;
  readonly revision: number;
  readonly models: number;
  readonly lastUsedAt: string;
  readonly expiresAt: string | undefined;
};

/**
 * `sluice environments`: every environment, its size, when it was last used and expires; from
 * the Scheduler when SLUICE_URL is set, else from the state store.
 */
export async function environmentsCommand(context: CommandContext, options: StateCliOptions) {
  const remote = remoteSettingsOf(process.env);
  const lines =
    remote === undefined
      ? await withStore(context, options, true, async (store) =>
          (await listEnvironments(store)).map(lineOfRecord),
        )
      : await remoteEnvironmentLines(new SchedulerApiClient(remote));

  const out = context.output.stdout;
  if (lines.length === 0) {
    out.write("No environments yet; 'sluice plan' creates prod.\n");
    return;
  }
  for (const line of lines) {
    out.write(
      `${line.name}  revision ${line.revision}, ${line.models} models, ` +
        `last used ${line.lastUsedAt}, ${expiryText(line)}\n`,
    );
  }
}

function lineOfRecord(environment: EnvironmentRecord): EnvironmentLine {
  return {
    name: environment.name,
    revision: environment.revision,
    models: Object.keys(environment.snapshotIds).length,
    lastUsedAt: environment.lastUsedAt,
    expiresAt: environment.expiresAt,
  };
}

async function remoteEnvironmentLines(api: SchedulerApiClient): Promise<EnvironmentLine[]> {
  const answer = await api.call({
    method: 'GET',
    path: '/v1/environments',
    schema: listEnvironmentsResponseSchema,
  });
  return answer.environments.map((environment) => ({
    name: environment.name,
    revision: environment.revision,
    models: environment.models,
    lastUsedAt: environment.last_used_at,
    expiresAt: environment.expires_at ?? undefined,
  }));
}

function expiryText(environment: EnvironmentLine): string {
  if (environment.expiresAt === undefined) return 'never expires';
  return isExpired(environment)
    ? `expired ${environment.expiresAt}`
    : `expires ${environment.expiresAt}`;
}

/** `sluice invalidate ENV`: makes a development environment expire now. */
export function invalidateCommand(
  context: CommandContext,
  environment: string,
  options: StateCliOptions,
) {
  const name = checkEnvironmentName(environment);
  if (name === PROD) {
    throw new SluiceError(
      'usage',
      'prod cannot be invalidated; only development environments expire',
    );
  }
  return withStore(context, options, true, async (store) => {
    if (!(await expireEnvironment(store, name))) throw missingEnvironment(name);
    context.output.stdout.write(
      `Environment '${name}' is invalidated: it has expired, ` +
        'and the janitor will remove its views.\n',
    );
  });
}

/** `sluice table-name MODEL [--env ENV]`: the physical table the model's view reads. */
export async function tableNameCommand(
  context: CommandContext,
  modelName: string,
  options: StateCliOptions & { readonly env?: string },
) {
  const name = checkEnvironmentName(options.env ?? PROD);
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const model = findModel(project, modelName);
  await withStore(context, options, true, async (store) => {
    const snapshots = await environmentSnapshots(store, name);
    const snapshot = snapshots.get(model.name);
    if (snapshot === undefined) {
      throw new SluiceError(
        'model_not_found',
        `Environment '${name}' has no model '${model.name}'; plan it with 'sluice plan ${name}'`,
      );
    }
    if (snapshot.table === undefined) {
      throw new SluiceError(
        'usage',
        `Model '${model.name}' is ${snapshot.model.kind.name}: it has no table`,
      );
    }
    context.output.stdout.write(`${snapshot.table.schema}.${snapshot.table.name}\n`);
  });
}

/** `sluice diff ENV [--against OTHER]`: how two environments differ, model by model. */
export function diffCommand(
  context: CommandContext,
  environment: string,
  options: StateCliOptions & { readonly against?: string },
) {
  const name = checkEnvironmentName(environment);
  const other = checkEnvironmentName(options.against ?? PROD);
  return withStore(context, options, true, async (store) => {
    const left = await environmentSnapshots(store, other);
    const right = await environmentSnapshots(store, name);
    const out = context.output.stdout;
    const names = [...new Set([...left.keys(), ...right.keys()])].sort();
    let differences = 0;
    for (const model of names) {
      const before = left.get(model);
      const after = right.get(model);
      if (before?.id === after?.id) continue;
      differences += 1;
      out.write(`${describe(model, before, after, other, name)}\n`);
      if (before !== undefined && after !== undefined) {
        for (const line of sqlDiff(before, after).split('\n'))
          if (line !== '') out.write(`    ${line}\n`);
      }
    }
    if (differences === 0) out.write(`'${name}' and '${other}' hold the same versions.\n`);
  });
}

function describe(
  model: string,
  before: Snapshot | undefined,
  after: Snapshot | undefined,
  other: string,
  name: string,
): string {
  if (before === undefined) return `+ ${model}: only in '${name}'`;
  if (after === undefined) return `- ${model}: only in '${other}'`;
  const tables =
    before.version === after.version
      ? 'same table'
      : `version ${before.version} -> ${after.version}`;
  return `~ ${model}: ${tables}`;
}

/** The snapshots an environment holds, by model name; a missing environment is an error. */
export async function environmentSnapshots(
  store: StateStore,
  name: string,
): Promise<Map<string, Snapshot>> {
  const environment = await readEnvironment(store, name);
  if (environment === undefined) throw missingEnvironment(name);
  const byId = await readSnapshots(store, Object.values(environment.snapshotIds));
  return new Map([...byId.values()].map((snapshot) => [snapshot.name, snapshot]));
}

function missingEnvironment(name: string): SluiceError {
  return new SluiceError(
    'usage',
    `Environment '${name}' does not exist; create it with 'sluice plan ${name}'`,
  );
}
