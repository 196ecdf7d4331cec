import type { AuditChainReportInfo, AuditEntryInfo } from '../../protocol/audit-log-api.js';
import type { AuditChainReport } from '../../state/audit-chain.js';
import type { AuditEntry } from '../../state/audit-log.js';

/**
 * The audit log in its wire form (protocol/audit-log-api.ts), the same whether the API answers or
 * the CLI reads the state store itself.
 */

/** An audit entry as the API sends it. */
export function auditEntryInfo(entry: AuditEntry): AuditEntryInfo {
  return {
    seq: entry.seq,
    id: entry.id,
    occurred_at: entry.occurredAt,
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    details: { ...entry.details },
    hash: entry.hash,
  };
}

/** A check of the hash chain as the API sends it. */
export function auditChainReportInfo(report: AuditChainReport): AuditChainReportInfo {
  return {
    intact: report.intact,
    entries: report.entries,
    unchained: report.unchained,
    head_seq: report.headSeq,
    head_hash: report.headHash,
    ...(report.problem === undefined ? {} : { problem: { ...report.problem } }),
  };
}
