import {
  auditChainReportSchema,
  auditLogQuerySchema,
  auditLogResponseSchema,
} from '../../../protocol/audit-log-api.js';
import { verifyAuditChain } from '../../../state/audit-chain.js';
import { readAuditEntries } from '../../../state/audit-log.js';
import { auditChainReportInfo, auditEntryInfo } from '../../audit/audit-log-info.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';

/** The audit log for admins: entries oldest first, paged by sequence number, and a chain check. */

/** Entries per page when the caller names no limit. */
const DEFAULT_PAGE_ENTRIES = 100;

const READ = { permission: 'audit:read' } as const;

/** Registers the two audit log routes. */
export function registerAuditLogRoutes(app: SchedulerApp, context: ServiceContext): void {
  app.get('/v1/audit-log', {
    schema: { querystring: auditLogQuerySchema, response: { 200: auditLogResponseSchema } },
    config: { access: READ, summary: 'Audit log entries after a sequence number, oldest first' },
    handler: async (request) => {
      const { after, limit } = request.query;
      const entries = await readAuditEntries(context.store, {
        limit: limit ?? DEFAULT_PAGE_ENTRIES,
        ...(after === undefined ? {} : { after }),
      });
      return { entries: entries.map(auditEntryInfo) };
    },
  });

  app.get('/v1/audit-log/verify', {
    schema: { response: { 200: auditChainReportSchema } },
    config: { access: READ, summary: "Check the audit log's hash chain from its first entry" },
    handler: async () => auditChainReportInfo(await verifyAuditChain(context.store)),
  });
}
