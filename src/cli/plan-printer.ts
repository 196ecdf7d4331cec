import type { ChangeKind, ModelChange, Plan } from '../core/plan.js';
import { formatRange, rangeJson } from './time-ranges.js';

/**
 * How a plan is shown: grouped by kind of change, each direct change with its SQL diff, then
 * what must be built. Colour only on a terminal and never when NO_COLOR is set.
 */

const GROUPS: readonly {
  readonly kind: ChangeKind;
  readonly title: string;
  readonly mark: string;
}[] = [
  { kind: 'added', title: 'Added models', mark: '+' },
  { kind: 'removed', title: 'Removed models', mark: '-' },
  { kind: 'directly_modified', title: 'Directly modified', mark: '~' },
  { kind: 'indirectly_modified', title: 'Indirectly modified', mark: '~' },
  { kind: 'metadata_only', title: 'Metadata-only changes', mark: '~' },
];

const COLOURS = { green: 32, red: 31, yellow: 33, cyan: 36, dim: 2 } as const;
type Colour = keyof typeof COLOURS;

/** Whether to colour what goes to `stream`. */
export function usesColour(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true && process.env.NO_COLOR === undefined;
}

/** The plan as text for a person. */
export function formatPlan(plan: Plan, isColoured: boolean): string {
  const paint = (colour: Colour, text: string) =>
    isColoured ? `\u001b[${COLOURS[colour]}m${text}\u001b[0m` : text;
  const lines: string[] = [];
  const base =
    plan.baseRevision !== 0
      ? `revision ${plan.baseRevision}`
      : plan.environment === 'prod'
        ? 'a new environment'
        : 'a new environment, starting from prod';
  lines.push(`Plan ${plan.id} for environment '${plan.environment}' (${base})`);

  for (const group of GROUPS) {
    const changes = plan.changes.filter((change) => change.kind === group.kind);
    if (changes.length === 0) continue;
    lines.push('', `${group.title} (${changes.length}):`);
    for (const change of changes) lines.push(...changeLines(change, group.mark, paint));
  }
  if (plan.changes.length === 0) lines.push('', 'No model changes.');
  lines.push(...restatementLines(plan), ...backfillLines(plan));
  return `${lines.join('\n')}\n`;
}

function changeLines(
  change: ModelChange,
  mark: string,
  paint: (colour: Colour, text: string) => string,
): string[] {
  const colour: Colour = mark === '+' ? 'green' : mark === '-' ? 'red' : 'yellow';
  const category = change.category === undefined ? '' : ` [${change.category.replace('_', '-')}]`;
  const reason = change.reason === undefined ? '' : ` (${change.reason})`;
  const lines = [`  ${paint(colour, `${mark} ${change.modelName}`)}${category}${reason}`];
  for (const line of (change.diff ?? '').split('\n')) {
    if (line === '') continue;
    const lineColour: Colour | undefined = line.startsWith('@@')
      ? 'cyan'
      : line.startsWith('+') && !line.startsWith('+++')
        ? 'green'
        : line.startsWith('-') && !line.startsWith('---')
          ? 'red'
          : undefined;
    lines.push(`      ${lineColour === undefined ? line : paint(lineColour, line)}`);
  }
  return lines;
}

function restatementLines(plan: Plan): string[] {
  if (plan.restatements.length === 0) return [];
  return [
    '',
    `Restated (${plan.restatements.length}):`,
    ...plan.restatements.map(
      (entry) => `  ${entry.modelName}: ${entry.ranges.map(formatRange).join(', ')}`,
    ),
  ];
}

function backfillLines(plan: Plan): string[] {
  if (plan.backfills.length === 0) return ['', 'Nothing to build: every version is complete.'];
  const count = plan.backfills.length;
  const lines = ['', `To build (${count} ${count === 1 ? 'version' : 'versions'}):`];
  for (const backfill of plan.backfills) {
    const parts: string[] = [];
    if (backfill.needsCreate) parts.push('create');
    if (backfill.ranges.length > 0) {
      const ranges = backfill.ranges.map(formatRange).join(', ');
      parts.push(`${backfill.intervals.toLocaleString('en')} intervals in ${ranges}`);
    }
    lines.push(`  ${backfill.modelName}: ${parts.join('; ')}`);
  }
  return lines;
}

/** The plan as JSON for machines, ranges as ISO instants. */
export function planJson(plan: Plan, status: { hasChanges: boolean; isApplied: boolean }) {
  return {
    ...status,
    id: plan.id,
    environment: plan.environment,
    baseRevision: plan.baseRevision,
    createdAt: plan.createdAt,
    changes: plan.changes,
    backfills: plan.backfills.map((backfill) => ({
      ...backfill,
      ranges: backfill.ranges.map(rangeJson),
    })),
    restatements: plan.restatements.map((entry) => ({
      ...entry,
      ranges: entry.ranges.map(rangeJson),
    })),
  };
}
