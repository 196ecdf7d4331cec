import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { physicalTableOf } from '../../core/physical-table.js';
import type { ChangeCategory, ModelChange, PlanOptions } from '../../core/plan.js';
import { type Snapshot, upkeepOf } from '../../core/snapshot.js';
import { directCategory, sqlDiff } from './change-categories.js';

/**
 * Compares the project's snapshots with an environment's and decides, model by model in
 * dependency order, what changed, how the change is categorised, and so which version each new
 * snapshot uses: a new one (its fingerprint's) for new models and breaking changes, the previous
 * one for non-breaking effects, forward-only and metadata-only changes. A snapshot already stored
 * (built in any environment) keeps the version it was given then.
 */

/** What comparing needs. */
export type ComparisonInputs = {
  readonly environment: string;
  /** The environment's snapshot ids now (for a new environment, prod's), by model name. */
  readonly baseIds: Readonly<Record<string, string>>;
  /** The version each of those snapshots uses, by snapshot id. */
  readonly baseVersions: ReadonlyMap<string, string>;
  /**
   * The environment's snapshots whose ids the project does not have (changed, removed, or left
   * out by the selection), by model name; the others are the project's own.
   */
  readonly base: ReadonlyMap<string, Snapshot>;
  /** The project's snapshots with their fingerprints' versions, by model name. */
  readonly project: ReadonlyMap<string, Snapshot>;
  /** Project model names, parents first. */
  readonly order: readonly string[];
  /** Stored snapshots whose ids the project has, by id. */
  readonly stored: ReadonlyMap<string, Snapshot>;
  readonly identifierLimitBytes: number | undefined;
  readonly options: Pick<PlanOptions, 'isForwardOnly' | 'selectModels'>;
};

/** The environment after the plan, what changed, and which snapshots need an ALTER. */
export type Comparison = {
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  readonly changes: readonly ModelChange[];
  /** Forward-only snapshots whose existing table may need new columns. */
  readonly forwardOnlyIds: ReadonlySet<string>;
};

/** What a model's change means for its downstream models. */
type Effect = 'none' | 'breaking' | 'forward_only';

/** Compares the project with the environment's base snapshots. */
export function compareWithEnvironment(inputs: ComparisonInputs): Comparison {
  const selected = selectedNames(inputs);
  const snapshots = new Map<string, Snapshot>();
  const effects = new Map<string, Effect>();
  const changes: ModelChange[] = [];
  const forwardOnlyIds = new Set<string>();

  for (const name of inputs.order) {
    const incoming = inputs.project.get(name);
    if (incoming === undefined) continue;
    const before = baseSnapshotOf(name, incoming, inputs);
    if (!selected(name)) {
      if (before !== undefined) snapshots.set(name, before);
      continue;
    }

    const decided = decide(incoming, before, inputs, { effects, snapshots });
    snapshots.set(name, decided.snapshot);
    effects.set(name, decided.effect);
    if (decided.change !== undefined) changes.push(decided.change);
    if (decided.change?.category === 'forward_only') forwardOnlyIds.add(decided.snapshot.id);
  }

  const planned = new Set(inputs.order);
  for (const name of Object.keys(inputs.baseIds)) {
    if (planned.has(name) && inputs.project.has(name)) continue;
    const before = inputs.base.get(name);
    if (before === undefined) continue;
    if (selected(name)) changes.push(change(name, 'removed', undefined, before, undefined));
    else snapshots.set(name, before);
  }
  return { snapshots, changes, forwardOnlyIds };
}

/**
 * The environment's snapshot of a model: when its id is the project's, the project's own
 * definition with the version the environment uses; otherwise the stored one.
 */
function baseSnapshotOf(
  name: string,
  incoming: Snapshot,
  inputs: ComparisonInputs,
): Snapshot | undefined {
  const id = inputs.baseIds[name];
  if (id === undefined) return undefined;
  if (id !== incoming.id) return inputs.base.get(name);
  const version = inputs.baseVersions.get(id) ?? incoming.version;
  return withVersion(incoming, version, inputs.identifierLimitBytes);
}

type Decision = {
  readonly snapshot: Snapshot;
  readonly effect: Effect;
  readonly change: ModelChange | undefined;
};

/** What the models decided before this one say: their effects and their snapshots. */
type Decided = {
  readonly effects: ReadonlyMap<string, Effect>;
  readonly snapshots: ReadonlyMap<string, Snapshot>;
};

function decide(
  incoming: Snapshot,
  before: Snapshot | undefined,
  inputs: ComparisonInputs,
  decided: Decided,
): Decision {
  const stored = inputs.stored.get(incoming.id);
  if (before === undefined) {
    const snapshot = stored ?? incoming;
    return {
      snapshot,
      effect: 'breaking',
      change: change(snapshot.name, 'added', undefined, undefined, snapshot),
    };
  }
  if (before.id === incoming.id) return { snapshot: before, effect: 'none', change: undefined };
  checkSelectedParents(incoming, before, inputs, decided);
  if (!changesItself(incoming, before) && !hasChangedParent(before, inputs, decided)) {
    // Only a parent left out by --select-model differs: the model stays on what it reads now,
    // and a later plan that takes the parent rebuilds it.
    return { snapshot: before, effect: 'none', change: undefined };
  }

  const decision = categorise(incoming, before, inputs, decided.effects);
  const snapshot = stored ?? withVersion(incoming, decision.version, inputs.identifierLimitBytes);
  const modelChange: ModelChange = {
    ...change(incoming.name, decision.kind, decision.category, before, snapshot),
    reason: decision.reason,
    diff: decision.kind === 'directly_modified' ? sqlDiff(before, snapshot) : undefined,
  };
  return { snapshot, effect: effectOf(decision.category), change: modelChange };
}

type Categorised = {
  readonly kind: ModelChange['kind'];
  readonly category: ChangeCategory;
  readonly reason: string | undefined;
  readonly version: string;
};

function changesItself(incoming: Snapshot, before: Snapshot): boolean {
  return (
    incoming.fingerprint.dataHash !== before.fingerprint.dataHash ||
    incoming.fingerprint.metadataHash !== before.fingerprint.metadataHash
  );
}

/**
 * A selected model whose own definition changed cannot be planned without a changed parent that
 * the selection leaves out: its new version would claim to read the parent's new version.
 */
function checkSelectedParents(
  incoming: Snapshot,
  before: Snapshot,
  inputs: ComparisonInputs,
  decided: Decided,
): void {
  if (inputs.options.selectModels.length === 0) return;
  if (incoming.fingerprint.dataHash === before.fingerprint.dataHash) return;
  const parents = [...incoming.model.dependencies, ...incoming.model.dependsOn];
  const leftOut = parents.find(
    (parent) =>
      inputs.project.get(parent)?.id !== inputs.baseIds[parent] &&
      decided.snapshots.get(parent)?.id === inputs.baseIds[parent],
  );
  if (leftOut === undefined) return;
  throw new SluiceError(
    'usage',
    `Model '${incoming.name}' changed and reads '${leftOut}', which changed too but is not ` +
      `selected; add --select-model ${leftOut}, or plan without --select-model`,
  );
}

/** Whether a parent of the model has another snapshot in the plan than in the environment. */
function hasChangedParent(before: Snapshot, inputs: ComparisonInputs, decided: Decided): boolean {
  const parents = [...before.model.dependencies, ...before.model.dependsOn];
  return parents.some((parent) => decided.snapshots.get(parent)?.id !== inputs.baseIds[parent]);
}

function categorise(
  incoming: Snapshot,
  before: Snapshot,
  inputs: ComparisonInputs,
  effects: ReadonlyMap<string, Effect>,
): Categorised {
  const natural = incoming.fingerprint.version;
  if (incoming.fingerprint.dataHash === before.fingerprint.dataHash) {
    if (natural === before.fingerprint.version) {
      return {
        kind: 'metadata_only',
        category: 'metadata',
        reason: undefined,
        version: before.version,
      };
    }
    const upstream = upstreamEffect(incoming, effects);
    // A view's physical object names its parents' tables: when a parent has a new table, even
    // for a non-breaking change, the view is rebuilt over it (views cost nothing to build).
    if (upstream === 'breaking' || upkeepOf(incoming.model.kind) === 'once') {
      return {
        kind: 'indirectly_modified',
        category: 'breaking',
        reason: undefined,
        version: natural,
      };
    }
    const category = upstream === 'forward_only' ? 'forward_only' : 'non_breaking';
    return { kind: 'indirectly_modified', category, reason: undefined, version: before.version };
  }

  if (inputs.options.isForwardOnly || isForwardOnlyKind(incoming)) {
    if (inputs.environment !== PROD) {
      // A forward-only change rewrites the table it keeps; outside prod that table may be prod's,
      // so the change is built in a table of its own instead.
      return {
        kind: 'directly_modified',
        category: 'breaking',
        reason: 'a forward-only model changed outside prod gets a table of its own',
        version: natural,
      };
    }
    return {
      kind: 'directly_modified',
      category: 'forward_only',
      reason: undefined,
      version: before.version,
    };
  }
  const { category, reason } = directCategory(before, incoming);
  return { kind: 'directly_modified', category, reason, version: natural };
}

/** The strongest effect of the model's parents' changes on it. */
function upstreamEffect(snapshot: Snapshot, effects: ReadonlyMap<string, Effect>): Effect {
  const parents = [...snapshot.model.dependencies, ...snapshot.model.dependsOn];
  const parentEffects = parents.map((parent) => effects.get(parent) ?? 'none');
  if (parentEffects.includes('breaking')) return 'breaking';
  return parentEffects.includes('forward_only') ? 'forward_only' : 'none';
}

/**
 * A direct non-breaking change gives the model a new version, but its downstream models keep
 * theirs: the columns they read are still there. Metadata changes affect nobody.
 */
function effectOf(category: ChangeCategory): Effect {
  if (category === 'breaking') return 'breaking';
  return category === 'forward_only' ? 'forward_only' : 'none';
}

function isForwardOnlyKind(snapshot: Snapshot): boolean {
  const kind = snapshot.model.kind;
  return 'isForwardOnly' in kind && kind.isForwardOnly;
}

function withVersion(
  snapshot: Snapshot,
  version: string,
  identifierLimitBytes: number | undefined,
): Snapshot {
  if (version === snapshot.version) return snapshot;
  const table =
    snapshot.table === undefined
      ? undefined
      : physicalTableOf(snapshot.name, version, identifierLimitBytes);
  return { ...snapshot, version, table };
}

function change(
  modelName: string,
  kind: ModelChange['kind'],
  category: ChangeCategory | undefined,
  before: Snapshot | undefined,
  after: Snapshot | undefined,
): ModelChange {
  return {
    modelName,
    kind,
    category,
    reason: undefined,
    before: before?.id,
    after: after?.id,
    diff: undefined,
  };
}

/**
 * Which models the plan may change: every model, or with --select-model the selected ones and
 * everything downstream of them in the project.
 */
function selectedNames(inputs: ComparisonInputs): (name: string) => boolean {
  const selection = inputs.options.selectModels;
  if (selection.length === 0) return () => true;

  const chosen = new Set(selection);
  for (const name of inputs.order) {
    const model = inputs.project.get(name)?.model;
    const parents = model === undefined ? [] : [...model.dependencies, ...model.dependsOn];
    if (parents.some((parent) => chosen.has(parent))) chosen.add(name);
  }
  return (name) => chosen.has(name);
}
