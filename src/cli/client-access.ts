import { userInfo } from 'node:os';
import { SluiceError } from '../core/errors.js';
import type { AuditChainReportInfo, AuditEntryInfo } from '../protocol/audit-log-api.js';
import { auditChainReportSchema, auditLogResponseSchema } from '../protocol/audit-log-api.js';
import {
  type ClientInfo,
  type ClientWithSecret,
  clientWithSecretSchema,
  listClientsResponseSchema,
  revokeClientResponseSchema,
} from '../protocol/clients-api.js';
import type { Role } from '../protocol/roles.js';
import { auditChainReportInfo, auditEntryInfo } from '../scheduler/audit/audit-log-info.js';
import {
  createClient,
  listClientInfos,
  revokeClientAccess,
  rotateClientSecret,
} from '../scheduler/auth/client-registry.js';
import { verifyAuditChain } from '../state/audit-chain.js';
import { readAuditEntries } from '../state/audit-log.js';
import type { StateStore } from '../state/state-store.js';
import { SchedulerApiClient } from './api-client.js';
import type { CommandContext } from './output.js';
import type { StateCliOptions } from './state-context.js';
import { withStore } from './with-state.js';

/**
 * The client and audit log commands act through the Scheduler's API when SLUICE_URL is set, and
 * directly on the state store otherwise. Both sides answer in the API's shapes, so a command
 * prints the same either way.
 */

/** Which entries of the audit log to read. */
export type AuditLogPage = { readonly after?: number; readonly limit: number };

/** What the client and audit log commands can do, remotely or locally. */
export type SchedulerAccess = {
  createClient(clientId: string, roles: readonly Role[]): Promise<ClientWithSecret>;
  listClients(): Promise<readonly ClientInfo[]>;
  /** `graceSec` undefined: the Scheduler's default grace for the previous secret. */
  rotateSecret(clientId: string, graceSec: number | undefined): Promise<ClientWithSecret>;
  revokeClient(clientId: string): Promise<ClientInfo>;
  readAuditLog(page: AuditLogPage): Promise<readonly AuditEntryInfo[]>;
  verifyAuditLog(): Promise<AuditChainReportInfo>;
};

/** The Scheduler's address and the client credentials to call it with, from the environment. */
export type RemoteSettings = {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
};

/**
 * Runs `work` against the Scheduler's API when SLUICE_URL is set, else against the state store
 * (`--state`, SLUICE_STATE_URL or the project's embedded state), which it opens and closes.
 */
export async function withSchedulerAccess<T>(
  context: CommandContext,
  options: StateCliOptions,
  work: (access: SchedulerAccess) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const remote = remoteSettingsOf(env);
  if (remote !== undefined) return work(remoteAccess(new SchedulerApiClient(remote)));
  return withStore(context, options, true, (store) => work(localAccess(store, localActor())));
}

/**
 * SLUICE_URL with its credentials; undefined without SLUICE_URL; a missing credential is an error.
 */
export function remoteSettingsOf(env: NodeJS.ProcessEnv): RemoteSettings | undefined {
  const url = nonEmpty(env.SLUICE_URL);
  if (url === undefined) return undefined;
  return {
    url,
    clientId: requiredVariable(env, 'SLUICE_CLIENT_ID'),
    clientSecret: requiredVariable(env, 'SLUICE_CLIENT_SECRET'),
  };
}

function requiredVariable(env: NodeJS.ProcessEnv, name: string): string {
  const value = nonEmpty(env[name]);
  if (value !== undefined) return value;
  throw new SluiceError(
    'usage',
    `SLUICE_URL is set, so this command calls the Scheduler, but ${name} is not set; set ` +
      "SLUICE_CLIENT_ID and SLUICE_CLIENT_SECRET to a client's credentials, or unset " +
      'SLUICE_URL to work on the state store directly',
  );
}

/** Who acts when the CLI writes to the state store itself: `local:<os user name>`. */
export function localActor(env: NodeJS.ProcessEnv = process.env): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // A container may run as a user id with no name; fall back to what the shell says.
    name = env.USER ?? env.USERNAME;
  }
  return `local:${nonEmpty(name) ?? 'unknown'}`;
}

/** The API client's view: each operation is one call. */
export function remoteAccess(api: SchedulerApiClient): SchedulerAccess {
  const clientPath = (clientId: string, action: string) =>
    `/v1/clients/${encodeURIComponent(clientId)}/${action}`;
  return {
    createClient: (clientId, roles) =>
      api.call({
        method: 'POST',
        path: '/v1/clients',
        body: { client_id: clientId, roles },
        schema: clientWithSecretSchema,
      }),
    listClients: async () =>
      (await api.call({ method: 'GET', path: '/v1/clients', schema: listClientsResponseSchema }))
        .clients,
    rotateSecret: (clientId, graceSec) =>
      api.call({
        method: 'POST',
        path: clientPath(clientId, 'rotate-secret'),
        body: graceSec === undefined ? {} : { grace_sec: graceSec },
        schema: clientWithSecretSchema,
      }),
    revokeClient: async (clientId) =>
      (
        await api.call({
          method: 'POST',
          path: clientPath(clientId, 'revoke'),
          body: {},
          schema: revokeClientResponseSchema,
        })
      ).client,
    readAuditLog: async (page) =>
      (
        await api.call({
          method: 'GET',
          path: '/v1/audit-log',
          query: { after: page.after, limit: page.limit },
          schema: auditLogResponseSchema,
        })
      ).entries,
    verifyAuditLog: () =>
      api.call({ method: 'GET', path: '/v1/audit-log/verify', schema: auditChainReportSchema }),
  };
}

/** The state store's view, recording `actor` in the audit log for every change. */
export function localAccess(store: StateStore, actor: string): SchedulerAccess {
  return {
    createClient: async (clientId, roles) =>
      withSecretOf(await createClient(store, { clientId, roles: [...roles], actor })),
    listClients: () => listClientInfos(store),
    rotateSecret: async (clientId, graceSec) =>
      withSecretOf(
        await rotateClientSecret(store, {
          clientId,
          actor,
          ...(graceSec === undefined ? {} : { graceSec }),
        }),
      ),
    revokeClient: (clientId) => revokeClientAccess(store, { clientId, actor }),
    readAuditLog: async (page) => (await readAuditEntries(store, page)).map(auditEntryInfo),
    verifyAuditLog: async () => auditChainReportInfo(await verifyAuditChain(store)),
  };
}

function withSecretOf(created: { client: ClientInfo; secret: string }): ClientWithSecret {
  return { client: created.client, client_secret: created.secret };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
