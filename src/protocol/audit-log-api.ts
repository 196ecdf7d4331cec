import { z } from 'zod';

/** The audit log API (admins only): entries oldest first, and a check of the hash chain. */

export const auditEntrySchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  id: z.string(),
  occurred_at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  details: z.record(z.string(), z.unknown()),
  /** The entry's chain hash, hex; null for entries written before the chain began. */
  hash: z.string().nullable(),
});

export type AuditEntryInfo = z.infer<typeof auditEntrySchema>;

export const auditLogQuerySchema = z.strictObject({
  /** Entries with a sequence number above this one. */
  after: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const auditLogResponseSchema = z.strictObject({ entries: z.array(auditEntrySchema) });

export const auditChainReportSchema = z.strictObject({
  intact: z.boolean(),
  entries: z.number().int().nonnegative(),
  /** Entries written before the chain began (before the migration that added it). */
  unchained: z.number().int().nonnegative(),
  head_seq: z.number().int().nullable(),
  head_hash: z.string().nullable(),
  /** The first entry where the chain breaks, and how. */
  problem: z.strictObject({ seq: z.number().int(), reason: z.string() }).optional(),
});

export type AuditChainReportInfo = z.infer<typeof auditChainReportSchema>;
