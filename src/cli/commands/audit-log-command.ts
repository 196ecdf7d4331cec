import { SluiceError } from '../../core/errors.js';
import type { AuditChainReportInfo, AuditEntryInfo } from '../../protocol/audit-log-api.js';
import { withSchedulerAccess } from '../client-access.js';
import type { CommandContext } from '../output.js';
import type { StateCliOptions } from '../state-context.js';

/**
 * `sluice audit-log`: the append-only log of security-relevant actions (clients created,
 * rotated and revoked, plans applied, restores, key rotations), and a check of its hash chain.
 * Through the Scheduler's API when SLUICE_URL is set (admins only), else on the state store.
 */

export type AuditLogOptions = StateCliOptions & {
  readonly after?: string;
  readonly limit?: string;
  readonly format?: string;
};

/** Entries printed when --limit is not given. */
const DEFAULT_LIMIT = 100;

/** The most entries one call returns, as the API allows. */
const MAX_LIMIT = 1000;

/** `sluice audit-log [--after SEQ] [--limit N]`: entries oldest first. */
export async function auditLogCommand(
  context: CommandContext,
  options: AuditLogOptions,
): Promise<void> {
  const after = options.after === undefined ? undefined : parseWhole(options.after, '--after', 0);
  const limit =
    options.limit === undefined ? DEFAULT_LIMIT : parseWhole(options.limit, '--limit', 1);
  if (limit > MAX_LIMIT) {
    throw new SluiceError(
      'usage',
      `--limit ${limit} is too large; read at most ${MAX_LIMIT} at once`,
    );
  }
  const isJson = parseFormat(options.format);

  const entries = await withSchedulerAccess(context, options, (access) =>
    access.readAuditLog({ limit, ...(after === undefined ? {} : { after }) }),
  );

  const out = context.output.stdout;
  if (isJson) {
    out.write(`${JSON.stringify({ entries }, null, 2)}\n`);
    return;
  }
  if (entries.length === 0) {
    out.write(after === undefined ? 'The audit log is empty.\n' : `No entries after ${after}.\n`);
    return;
  }
  for (const entry of entries) out.write(`${entryLine(entry)}\n`);
  const last = entries.at(-1);
  if (entries.length === limit && last !== undefined) {
    out.write(`More entries may follow: run 'sluice audit-log --after ${last.seq}'.\n`);
  }
}

/**
 * `sluice audit-log verify`: walks the hash chain and reports whether it is intact; exits 1,
 * naming the entry and the reason, when an entry was removed or edited.
 */
export async function auditLogVerifyCommand(
  context: CommandContext,
  options: AuditLogOptions,
): Promise<void> {
  if (options.after !== undefined || options.limit !== undefined) {
    throw new SluiceError(
      'usage',
      "--after and --limit choose entries to list; 'sluice audit-log verify' checks the whole " +
        'log and takes neither',
    );
  }
  const isJson = parseFormat(options.format);

  const report = await withSchedulerAccess(context, options, (access) => access.verifyAuditLog());

  const out = context.output.stdout;
  out.write(isJson ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
  if (!report.intact) {
    const where = report.problem === undefined ? '' : ` at entry ${report.problem.seq}`;
    const why = report.problem === undefined ? '' : `: ${report.problem.reason}`;
    throw new SluiceError(
      'audit_chain_broken',
      `The audit log's hash chain is broken${where}${why}. An entry was removed or edited after ` +
        'it was written; compare the log with a backup taken before that entry',
    );
  }
}

/** One entry: sequence number, time, actor, action, subject and details as JSON. */
function entryLine(entry: AuditEntryInfo): string {
  const details =
    Object.keys(entry.details).length === 0 ? '' : `  ${JSON.stringify(entry.details)}`;
  return (
    `${entry.seq}  ${entry.occurred_at}  ${entry.actor}  ${entry.action}  ` +
    `${entry.subject}${details}`
  );
}

function reportText(report: AuditChainReportInfo): string {
  const where =
    report.problem === undefined ? '' : ` at entry ${report.problem.seq}: ${report.problem.reason}`;
  const status = report.intact ? 'intact' : `BROKEN${where}`;
  const head =
    report.head_seq === null ? 'none' : `entry ${report.head_seq}, hash ${report.head_hash ?? '-'}`;
  const unchained =
    report.unchained === 0 ? '' : ` (${report.unchained} written before the chain began)`;
  return (
    `Audit log chain: ${status}\n` +
    `Entries:         ${report.entries}${unchained}\n` +
    `Head:            ${head}\n`
  );
}

function parseWhole(text: string, option: string, min: number): number {
  const value = Number(text);
  if (/^\d+$/.test(text.trim()) && Number.isSafeInteger(value) && value >= min) return value;
  throw new SluiceError(
    'usage',
    `${option} '${text}' is not a whole number${min > 0 ? ` of at least ${min}` : ''}`,
  );
}

function parseFormat(format: string | undefined): boolean {
  if (format === undefined || format === 'text') return false;
  if (format === 'json') return true;
  throw new SluiceError('usage', `Unknown format '${format}'; use one of: text, json`);
}
