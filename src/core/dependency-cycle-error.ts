import { SluiceError } from './errors.js';

/**
 * Models that depend on each other in one or more cycles. Each entry of `cycles` is a closed walk
 * along dependencies through every model of one strongly connected component, starting at its
 * model with the smallest name; the walk returns to that first model, which is not repeated at the
 * end. A simple cycle is listed in cycle order with each model once; a tangled component may list
 * a model more than once. A self-loop is a one-model cycle.
 */
export class DependencyCycleError extends SluiceError {
  readonly cycles: readonly (readonly string[])[];
  /** Every model on any cycle, each once, sorted by name: the models whose files need a change. */
  readonly models: readonly string[];

  constructor(cycles: readonly (readonly string[])[]) {
    super('dependency_cycle', describeCycles(cycles));
    this.name = 'DependencyCycleError';
    this.cycles = Object.freeze(cycles.map((cycle) => Object.freeze([...cycle])));
    this.models = Object.freeze([...new Set(cycles.flat())].sort());
  }
}

function describeCycles(cycles: readonly (readonly string[])[]): string {
  const [only] = cycles;
  if (cycles.length === 1 && only !== undefined) {
    const [first] = only;
    if (only.length === 1 && first !== undefined) {
      return `Model '${first}' depends on itself: ${formatCycle(only)}; remove this reference`;
    }
    return `Models depend on each other in a cycle: ${formatCycle(only)}; remove one of these references`;
  }

  const listed = cycles.map((cycle, index) => `(${index + 1}) ${formatCycle(cycle)}`).join(', ');
  return (
    `Models depend on each other in ${cycles.length} cycles: ${listed}; ` +
    'remove one reference in each cycle'
  );
}

function formatCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' → ');
}
