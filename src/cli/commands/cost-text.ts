import type {
  CostTotalInfo,
  CostTotalsInfo,
  EnvironmentCostInfo,
} from '../../protocol/cost-api.js';

/**
 * How `sluice cost` prints for people: one aligned row per model, run or environment with its
 * cost per currency, attempts (and how many had no price), compute time, bytes scanned and rows
 * written; then, for one environment, its own cost and the cost it avoided by reusing versions.
 */

const HEADERS = ['cost', 'attempts', 'unpriced', 'duration', 'scanned', 'rows'] as const;

/** The totals as an aligned table, or a sentence when there are none. */
export function costTotalsText(report: CostTotalsInfo): string {
  if (report.totals.length === 0) return 'No priced task attempts yet.\n';
  const rows = report.totals.map((total) => [
    total.key ?? '(none)',
    amountsText(total.costs),
    String(total.attempts),
    String(total.unpriced_attempts),
    durationText(total.duration_ms),
    bytesText(total.bytes_scanned),
    String(total.rows_written),
  ]);
  return alignedText([[report.group_by, ...HEADERS], ...rows]);
}

/** An environment's own cost and what it avoided, two lines. */
export function environmentCostText(cost: EnvironmentCostInfo): string {
  const { total, avoided } = cost;
  const unpriced = total.unpriced_attempts === 0 ? '' : `, ${total.unpriced_attempts} unpriced`;
  const own =
    `Environment ${cost.environment}: ${amountsText(total.costs)} over ` +
    `${plural(total.attempts, 'attempt')}${unpriced}`;
  const reused =
    `Avoided by reusing versions: ${amountsText(avoided.costs)} ` +
    `(${plural(avoided.versions, 'version')} built by other environments, ` +
    `${plural(avoided.attempts, 'attempt')})`;
  return `\n${own}\n${reused}\n`;
}

/** Amounts joined with `+`, such as `12.40 USD + 3.00 EUR`; `-` for none. */
export function amountsText(costs: CostTotalInfo['costs']): string {
  if (costs.length === 0) return '-';
  return costs.map((cost) => `${amountText(cost.amount)} ${cost.currency}`).join(' + ');
}

/** Two decimals, or two significant digits for amounts under a cent. */
function amountText(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return amount.toPrecision(2);
  return amount.toFixed(2);
}

function durationText(durationMs: number): string {
  const seconds = durationMs / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Decimal units, as engines bill them: 1 TB is 10^12 bytes. */
function bytesText(bytes: number): string {
  if (bytes === 0) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Rows padded to their widest cell; the first column left-aligned, the others right. */
function alignedText(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, column) =>
    Math.max(...rows.map((row) => [...(row[column] ?? '')].length)),
  );
  const lines = rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
