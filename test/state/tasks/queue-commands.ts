import fc from 'fast-check';
import {
  CALLERS,
  EXECUTORS,
  type Hold,
  LEASE_MS,
  type Outcome,
  type QueueModel,
  type TaskSpec,
} from './queue-model.js';
import {
  advanceStep,
  claimStep,
  completeStep,
  enqueueStep,
  heartbeatStep,
  releaseStep,
  replayStep,
  restartStep,
} from './queue-steps.js';
import type { QueueSystem } from './queue-system.js';

/**
 * The commands of the queue's model-based test and the arbitrary that draws sequences of them.
 * Commands name what they act on by position (the n-th belief, the n-th claim ever made), taken
 * modulo what the model holds when they run, so that a shrunk sequence still means something.
 */

type QueueCommand = fc.AsyncCommand<QueueModel, QueueSystem>;

/** The queue holds at most this many tasks in one run, so that every check stays quick. */
const MAX_TASKS = 14;

/**
 * Whom a lease call names: a belief; any past claim; an older claim of a task's current holder;
 * a task at its current epoch, from any client; or no task at all.
 */
type Target = {
  readonly kind: 'belief' | 'past-claim' | 'holder-past' | 'any-caller' | 'unknown-task';
  readonly pick: number;
};

function holdOf(model: Readonly<QueueModel>, target: Target): Hold | undefined {
  const { pick } = target;
  if (target.kind === 'belief') return nth(model.beliefs, pick);
  if (target.kind === 'past-claim') return nth(model.claims, pick);
  if (target.kind === 'holder-past') return nth(model.claims.filter(isHolderPast(model)), pick);
  const owner = CALLERS[pick % CALLERS.length] ?? 'intruder';
  if (target.kind === 'unknown-task') return { taskId: 'ghost', owner, epoch: 1 };
  const task = nth([...model.tasks.values()], Math.floor(pick / CALLERS.length));
  return task === undefined ? undefined : { taskId: task.id, owner, epoch: task.epoch };
}

function nth<T>(items: readonly T[], pick: number): T | undefined {
  return items[pick % Math.max(1, items.length)];
}

/** Whether a claim is an older one of the client that holds the task now. */
function isHolderPast(model: Readonly<QueueModel>): (claim: Hold) => boolean {
  return (claim) => {
    const task = model.tasks.get(claim.taskId);
    return task?.status === 'leased' && task.owner === claim.owner && task.epoch > claim.epoch;
  };
}

/** A command that checks the whole queue against the model once its call is made. */
abstract class CheckedCommand implements QueueCommand {
  check(_model: Readonly<QueueModel>): boolean {
    return true;
  }

  async run(model: QueueModel, system: QueueSystem): Promise<void> {
    await this.call(model, system);
    await system.check(model);
  }

  abstract call(model: QueueModel, system: QueueSystem): Promise<void>;
  abstract toString(): string;
}

class Enqueue extends CheckedCommand {
  constructor(private readonly specs: TaskSpec[]) {
    super();
  }
  override check(model: Readonly<QueueModel>): boolean {
    return model.tasks.size + this.specs.length <= MAX_TASKS;
  }
  call(model: QueueModel, system: QueueSystem) {
    return enqueueStep(model, system, this.specs);
  }
  toString() {
    return `enqueue ${JSON.stringify(this.specs)}`;
  }
}

class Claim extends CheckedCommand {
  constructor(
    private readonly executor: number,
    private readonly maxTasks: number,
  ) {
    super();
  }
  async call(model: QueueModel, system: QueueSystem) {
    const executor = EXECUTORS[this.executor] ?? EXECUTORS[0];
    if (executor !== undefined) await claimStep(model, system, executor, this.maxTasks);
  }
  toString() {
    return `claim by ${EXECUTORS[this.executor]?.owner} of ${this.maxTasks}`;
  }
}

/** A lease call on a target; skipped when the model has nothing of that kind yet. */
abstract class LeaseCommand extends CheckedCommand {
  constructor(protected readonly target: Target) {
    super();
  }
  override check(model: Readonly<QueueModel>): boolean {
    return holdOf(model, this.target) !== undefined;
  }
  async call(model: QueueModel, system: QueueSystem) {
    const hold = holdOf(model, this.target);
    if (hold !== undefined) await this.callOn(model, system, hold);
  }
  abstract callOn(model: QueueModel, system: QueueSystem, hold: Hold): Promise<void>;
  protected targetText(): string {
    return `${this.target.kind} #${this.target.pick}`;
  }
}

class Heartbeat extends LeaseCommand {
  callOn(model: QueueModel, system: QueueSystem, hold: Hold) {
    return heartbeatStep(model, system, hold);
  }
  toString() {
    return `heartbeat ${this.targetText()}`;
  }
}

class Release extends LeaseCommand {
  callOn(model: QueueModel, system: QueueSystem, hold: Hold) {
    return releaseStep(model, system, hold);
  }
  toString() {
    return `release ${this.targetText()}`;
  }
}

class Complete extends LeaseCommand {
  constructor(
    target: Target,
    private readonly outcome: Outcome,
    private readonly random: number,
  ) {
    super(target);
  }
  callOn(model: QueueModel, system: QueueSystem, hold: Hold) {
    return completeStep(model, system, hold, this.outcome, this.random);
  }
  toString() {
    return `complete ${this.targetText()} as ${this.outcome} (jitter ${this.random})`;
  }
}

class Replay extends CheckedCommand {
  constructor(
    private readonly pick: number,
    private readonly outcome: Outcome,
    private readonly isForeign: boolean,
  ) {
    super();
  }
  override check(model: Readonly<QueueModel>): boolean {
    return model.completions.length > 0;
  }
  async call(model: QueueModel, system: QueueSystem) {
    const first = model.completions[this.pick % model.completions.length];
    if (first === undefined) return;
    const others = CALLERS.filter((caller) => caller !== first.owner);
    const owner = this.isForeign ? (others[this.pick % others.length] ?? 'intruder') : first.owner;
    await replayStep(model, system, first, owner, this.outcome);
  }
  toString() {
    const by = this.isForeign ? ' by another client' : '';
    return `replay completion #${this.pick} as ${this.outcome}${by}`;
  }
}

class Advance extends CheckedCommand {
  constructor(
    private readonly deltaMs: number,
    private readonly reapRandom: number | undefined,
  ) {
    super();
  }
  call(model: QueueModel, system: QueueSystem) {
    return advanceStep(model, system, this.deltaMs, this.reapRandom);
  }
  toString() {
    const reap = this.reapRandom === undefined ? '' : ` and reap (jitter ${this.reapRandom})`;
    return `advance ${this.deltaMs} ms${reap}`;
  }
}

class Restart extends CheckedCommand {
  call(model: QueueModel, system: QueueSystem) {
    return restartStep(model, system);
  }
  toString() {
    return 'restart the Scheduler';
  }
}

const jitter = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const outcome = fc.constantFrom<Outcome>('succeeded', 'retryable', 'final');

const taskSpec: fc.Arbitrary<TaskSpec> = fc.record({
  pool: fc.constantFrom('apply', 'run'),
  priority: fc.nat(2),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  upstreamBack: fc.uniqueArray(fc.nat(4), { maxLength: 2 }),
});

const target: fc.Arbitrary<Target> = fc.record({
  kind: fc.oneof(
    { weight: 6, arbitrary: fc.constant('belief' as const) },
    { weight: 2, arbitrary: fc.constant('past-claim' as const) },
    { weight: 2, arbitrary: fc.constant('holder-past' as const) },
    { weight: 2, arbitrary: fc.constant('any-caller' as const) },
    { weight: 1, arbitrary: fc.constant('unknown-task' as const) },
  ),
  pick: fc.nat(),
});

/** Clock steps around the lease length, with its edges, and small ones. */
const deltaMs = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(LEASE_MS - 1, LEASE_MS, LEASE_MS + 1) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * LEASE_MS }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
);

const command: fc.Arbitrary<QueueCommand> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(taskSpec, { minLength: 1, maxLength: 3 })
      .map((specs) => new Enqueue(specs)),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.nat(EXECUTORS.length - 1), fc.integer({ min: 1, max: 4 }))
      .map(([executor, maxTasks]) => new Claim(executor, maxTasks)),
  },
  { weight: 3, arbitrary: target.map((chosen) => new Heartbeat(chosen)) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(target, outcome, jitter)
      .map(([chosen, kind, random]) => new Complete(chosen, kind, random)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(), outcome, fc.boolean())
      .map(([pick, kind, isForeign]) => new Replay(pick, kind, isForeign)),
  },
  { weight: 2, arbitrary: target.map((chosen) => new Release(chosen)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(deltaMs, fc.option(jitter, { freq: 4 }))
      .map(([delta, random]) => new Advance(delta, random ?? undefined)),
  },
  { weight: 1, arbitrary: fc.constant(null).map(() => new Restart()) },
);

/** Sequences of up to `maxCommands` queue commands. */
export function queueCommands(maxCommands: number) {
  return fc.commands([command], { maxCommands, size: 'max' });
}
