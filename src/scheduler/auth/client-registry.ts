import { SluiceError } from '../../core/errors.js';
import { CLIENT_ID_PATTERN, type ClientInfo } from '../../protocol/clients-api.js';
import { isRole, ROLES, type Role } from '../../protocol/roles.js';
import {
  addClientSecret,
  hasActiveClientWithRole,
  insertClient,
  listClients,
  readClient,
  revokeClient,
  type StoredClient,
  type StoredClientSecret,
} from '../../state/oauth-client-store.js';
import { newRowId } from '../../state/row-id.js';
import type { StateStore } from '../../state/state-store.js';
import {
  hashClientSecret,
  newClientSecret,
  spendSecretCheck,
  verifyClientSecret,
} from './secret-hash.js';

/**
 * The OAuth clients of a Scheduler: creating them, rotating and revoking their secrets, and
 * checking the credentials a token request presents. Every change appends an audit entry, in the
 * same transaction as the change, whose details name roles and secret ids, never a secret or its
 * hash.
 */

/** A client and the secret just made for it; the secret is shown once and never stored. */
export type SecretIssued = { readonly client: ClientInfo; readonly secret: string };

/** How long a replaced secret keeps working by default: one day. */
const DEFAULT_GRACE_SEC = 24 * 3600;

/** The longest grace a rotation may give the previous secret: 30 days. */
const MAX_GRACE_SEC = 30 * 24 * 3600;

/** Creates a client with a new secret. */
export async function createClient(
  store: StateStore,
  request: { clientId: string; roles: readonly Role[]; actor: string; now?: Date },
): Promise<SecretIssued> {
  checkClientId(request.clientId);
  const roles = checkRoles(request.roles);
  const now = request.now ?? new Date();

  const secret = newClientSecret();
  const secretId = newRowId(now.getTime());
  const stored = await insertClient(store, {
    clientId: request.clientId,
    roles,
    createdAt: now.toISOString(),
    secret: { id: secretId, hash: await hashClientSecret(secret) },
    audit: {
      actor: request.actor,
      action: 'client.created',
      subject: request.clientId,
      details: { roles, secretId },
    },
  });
  return { client: toClientInfo(stored), secret };
}

/**
 * Creates the first admin client of a state store, which then creates the others over the API.
 * Refused once an unrevoked admin client exists, so the command cannot mint admins later.
 */
export async function bootstrapAdminClient(
  store: StateStore,
  request: { clientId: string; actor: string; now?: Date },
): Promise<SecretIssued> {
  if (await hasActiveClientWithRole(store, 'admin')) {
    throw new SluiceError(
      'client_exists',
      `An admin client already exists, so bootstrap will not create '${request.clientId}'; ` +
        "create more clients with 'sluice clients create NAME --role ROLE' using an admin " +
        "client's credentials",
    );
  }

  // Two bootstraps racing may both pass the check; each still leaves an audit entry.
  return createClient(store, { ...request, roles: ['admin'] });
}

/** Every client, revoked ones included, without their hashes. */
export async function listClientInfos(store: StateStore): Promise<ClientInfo[]> {
  const clients = await listClients(store);
  return clients.map(toClientInfo);
}

/**
 * Gives a client a new secret. The previous one keeps working for `graceSec` (default one day,
 * 0 ends it now) so that callers can switch over; older ones end at once. At most two secrets
 * are active at any time.
 */
export async function rotateClientSecret(
  store: StateStore,
  request: { clientId: string; graceSec?: number; actor: string; now?: Date },
): Promise<SecretIssued> {
  const graceSec = checkGraceSec(request.graceSec ?? DEFAULT_GRACE_SEC);
  const now = request.now ?? new Date();
  const before = await readLiveClient(store, request.clientId, 'rotate its secret');

  const secret = newClientSecret();
  const secretId = newRowId(now.getTime());
  const stored = await addClientSecret(store, {
    clientId: request.clientId,
    secret: { id: secretId, hash: await hashClientSecret(secret) },
    now: now.toISOString(),
    graceEndsAt: new Date(now.getTime() + graceSec * 1000).toISOString(),
    audit: {
      actor: request.actor,
      action: 'client.secret_rotated',
      subject: request.clientId,
      details: {
        secretId,
        previousSecretIds: before.secrets.map((previous) => previous.id),
        graceSec,
      },
    },
  });
  return { client: toClientInfo(stored), secret };
}

/**
 * Revokes a client: its secrets are deleted and its tokens stop working on every verifier that
 * consults the revocation list. Revoking a revoked client changes nothing and writes no entry.
 */
export async function revokeClientAccess(
  store: StateStore,
  request: { clientId: string; actor: string; now?: Date },
): Promise<ClientInfo> {
  const before = await readKnownClient(store, request.clientId);
  if (before.revokedAt !== null) return toClientInfo(before);

  const now = request.now ?? new Date();
  const revoked = await revokeClient(store, request.clientId, now.toISOString(), {
    actor: request.actor,
    action: 'client.revoked',
    subject: request.clientId,
    details: { roles: before.roles, secretIds: before.secrets.map((secret) => secret.id) },
  });
  return toClientInfo(revoked);
}

/**
 * The client whose credentials these are, or undefined for an unknown or revoked client, an
 * expired secret or a wrong one. An unknown client costs one hash like a known one, and a
 * client's secrets (at most two) are checked in parallel, so timing tells little apart.
 */
export async function authenticateClient(
  store: StateStore,
  clientId: string,
  secret: string,
  now: Date = new Date(),
): Promise<ClientInfo | undefined> {
  const client = CLIENT_ID_PATTERN.test(clientId) ? await readClient(store, clientId) : undefined;
  const secrets = client?.revokedAt === null ? unexpiredSecrets(client.secrets, now) : [];
  if (client === undefined || secrets.length === 0) {
    await spendSecretCheck();
    return undefined;
  }

  const matches = await Promise.all(
    secrets.map((stored) => verifyClientSecret(secret, stored.hash)),
  );
  return matches.includes(true) ? toClientInfo(client) : undefined;
}

/** A stored client in its wire form: no hashes, and only the roles this build knows. */
export function toClientInfo(client: StoredClient): ClientInfo {
  return {
    client_id: client.clientId,
    roles: client.roles.filter(isRole),
    created_at: client.createdAt,
    revoked_at: client.revokedAt,
    secrets: client.secrets.map((secret) => ({
      id: secret.id,
      created_at: secret.createdAt,
      expires_at: secret.expiresAt,
    })),
  };
}

function unexpiredSecrets(secrets: readonly StoredClientSecret[], now: Date): StoredClientSecret[] {
  return secrets.filter(
    (secret) => secret.expiresAt === null || Date.parse(secret.expiresAt) > now.getTime(),
  );
}

async function readKnownClient(store: StateStore, clientId: string): Promise<StoredClient> {
  checkClientId(clientId);
  const client = await readClient(store, clientId);
  if (client === undefined) {
    throw new SluiceError(
      'client_not_found',
      `There is no OAuth client '${clientId}'; see the clients with 'sluice clients list'`,
    );
  }
  return client;
}

async function readLiveClient(
  store: StateStore,
  clientId: string,
  purpose: string,
): Promise<StoredClient> {
  const client = await readKnownClient(store, clientId);
  if (client.revokedAt !== null) {
    throw new SluiceError(
      'client_not_found',
      `OAuth client '${clientId}' was revoked at ${client.revokedAt}, so you cannot ${purpose}; ` +
        'create a new client instead',
    );
  }
  return client;
}

function checkClientId(clientId: string): void {
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new SluiceError(
      'request_invalid',
      `Client id '${clientId.slice(0, 80)}' is not valid: client_id must be 1-64 characters ` +
        "of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
    );
  }
}

function checkRoles(roles: readonly string[]): Role[] {
  if (roles.length === 0) {
    throw new SluiceError(
      'request_invalid',
      `A client needs at least one role in roles; give one of: ${ROLES.join(', ')}`,
    );
  }

  const unknown = roles.find((role) => !isRole(role));
  if (unknown !== undefined) {
    throw new SluiceError(
      'request_invalid',
      `Role '${unknown}' in roles is not known; use one of: ${ROLES.join(', ')}`,
    );
  }
  return [...new Set(roles.filter(isRole))];
}

function checkGraceSec(graceSec: number): number {
  if (!Number.isInteger(graceSec) || graceSec < 0 || graceSec > MAX_GRACE_SEC) {
    throw new SluiceError(
      'request_invalid',
      `grace_sec must be a whole number of seconds from 0 to ${MAX_GRACE_SEC} (30 days); ` +
        `got ${graceSec}`,
    );
  }
  return graceSec;
}
