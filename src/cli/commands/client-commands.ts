import { parseDuration } from '../../core/duration.js';
import { didYouMean, SluiceError } from '../../core/errors.js';
import {
  CLIENT_ID_PATTERN,
  type ClientInfo,
  type ClientWithSecret,
} from '../../protocol/clients-api.js';
import { isRole, ROLES, type Role } from '../../protocol/roles.js';
import { bootstrapAdminClient } from '../../scheduler/auth/client-registry.js';
import { localActor, withSchedulerAccess } from '../client-access.js';
import type { CommandContext } from '../output.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

/**
 * `sluice clients ...`: the OAuth clients that may call the Scheduler. Each command works
 * through the Scheduler's API when SLUICE_URL is set and on the state store otherwise, and prints
 * the same either way. A secret is printed once, when it is made; nothing prints a stored hash.
 */

export type ClientCommandOptions = StateCliOptions & { readonly format?: string };

/** The longest grace a rotated secret may keep working: 30 days, as the API allows. */
const MAX_GRACE_SEC = 30 * 24 * 3600;

const GRACE_UNIT_SEC = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/**
 * `sluice clients bootstrap [NAME]`: creates the first admin client on the state store itself,
 * refused while an active admin exists.
 */
export async function clientsBootstrapCommand(
  context: CommandContext,
  name: string | undefined,
  options: ClientCommandOptions,
): Promise<void> {
  const clientId = checkClientName(name ?? 'admin');
  const isJson = parseFormat(options.format);

  const created = await withStore(context, options, true, (store) =>
    bootstrapAdminClient(store, { clientId, actor: localActor() }),
  );

  printNewSecret(context, { client: created.client, client_secret: created.secret }, isJson);
}

/** `sluice clients create NAME --role ROLE...`: a new client; its secret is printed once. */
export async function clientsCreateCommand(
  context: CommandContext,
  name: string,
  options: ClientCommandOptions & { readonly role?: readonly string[] },
): Promise<void> {
  const clientId = checkClientName(name);
  const roles = parseRoles(options.role ?? []);
  const isJson = parseFormat(options.format);

  const created = await withSchedulerAccess(context, options, (access) =>
    access.createClient(clientId, roles),
  );

  printNewSecret(context, created, isJson);
}

/** `sluice clients list`: every client with its roles and secrets' ages, never a secret. */
export async function clientsListCommand(
  context: CommandContext,
  options: ClientCommandOptions,
): Promise<void> {
  const isJson = parseFormat(options.format);

  const clients = await withSchedulerAccess(context, options, (access) => access.listClients());

  const out = context.output.stdout;
  if (isJson) {
    out.write(`${JSON.stringify({ clients }, null, 2)}\n`);
  } else if (clients.length === 0) {
    out.write("No clients yet; create the first admin with 'sluice clients bootstrap'.\n");
  } else {
    out.write(clientTable(clients));
  }
}

/**
 * `sluice clients rotate-secret NAME [--grace DURATION]`: a new secret, printed once; the
 * previous one keeps working for the grace period (the Scheduler's default when not given).
 */
export async function clientsRotateSecretCommand(
  context: CommandContext,
  name: string,
  options: ClientCommandOptions & { readonly grace?: string },
): Promise<void> {
  const clientId = checkClientName(name);
  const graceSec = options.grace === undefined ? undefined : parseGraceSec(options.grace);
  const isJson = parseFormat(options.format);

  const rotated = await withSchedulerAccess(context, options, (access) =>
    access.rotateSecret(clientId, graceSec),
  );

  printNewSecret(context, rotated, isJson);
  if (!isJson) context.output.stdout.write(`${previousSecretLine(rotated.client)}\n`);
}

/** `sluice clients revoke NAME`: the client gets no new tokens and its tokens stop working. */
export async function clientsRevokeCommand(
  context: CommandContext,
  name: string,
  options: ClientCommandOptions,
): Promise<void> {
  const clientId = checkClientName(name);
  const isJson = parseFormat(options.format);

  const client = await withSchedulerAccess(context, options, (access) =>
    access.revokeClient(clientId),
  );

  const out = context.output.stdout;
  if (isJson) {
    out.write(`${JSON.stringify({ client }, null, 2)}\n`);
  } else {
    out.write(
      `Revoked client '${client.client_id}': it can get no new tokens, and the tokens it holds ` +
        'stop working within seconds.\n',
    );
  }
}

/** Checks a client name as the API does, so that both modes refuse the same names. */
export function checkClientName(name: string): string {
  if (CLIENT_ID_PATTERN.test(name)) return name;
  throw new SluiceError(
    'usage',
    `Client name '${name}' is not valid; use 1-64 characters of a-z, 0-9, '.', '_' or '-', ` +
      'starting with a letter or digit',
  );
}

/** Roles from `--role` options, each possibly a comma-separated list; at least one. */
export function parseRoles(texts: readonly string[]): Role[] {
  const names = texts.flatMap((text) => text.split(',')).map((text) => text.trim());
  const roles: Role[] = [];
  for (const name of names.filter((text) => text !== '')) {
    if (!isRole(name)) {
      throw new SluiceError(
        'usage',
        `Unknown role '${name}'; use one of: ${ROLES.join(', ')}.${didYouMean(name, ROLES)}`,
      );
    }
    if (!roles.includes(name)) roles.push(name);
  }
  if (roles.length === 0) {
    throw new SluiceError(
      'usage',
      `Give the client at least one role with --role; one of: ${ROLES.join(', ')}`,
    );
  }
  return roles;
}

/**
 * A grace period in seconds: `0`, or a whole number with a unit, short (`90s`, `30m`, `2h`,
 * `1d`, `1w`) or long (`12 hours`); at most 30 days.
 */
export function parseGraceSec(text: string): number {
  const short = /^(\d+)\s*([smhdw])?$/.exec(text.trim().toLowerCase());
  let seconds: number | undefined;
  if (short !== null) {
    const unit = (short[2] ?? 's') as keyof typeof GRACE_UNIT_SEC;
    seconds = Number(short[1]) * GRACE_UNIT_SEC[unit];
  } else {
    try {
      seconds = parseDuration(text, 'Grace') / 1000;
    } catch {
      seconds = undefined;
    }
  }
  if (seconds !== undefined && Number.isSafeInteger(seconds) && seconds <= MAX_GRACE_SEC) {
    return seconds;
  }
  throw new SluiceError(
    'usage',
    `Grace '${text}' is not a duration of at most 30 days; write 0 or a whole number with a ` +
      "unit, such as '90s', '30m', '2h' or '1d'",
  );
}

function printNewSecret(context: CommandContext, created: ClientWithSecret, isJson: boolean) {
  const out = context.output.stdout;
  const clientId = created.client.client_id;
  if (isJson) {
    out.write(
      `${JSON.stringify({ client_id: clientId, client_secret: created.client_secret }, null, 2)}\n`,
    );
    return;
  }
  out.write(`Client id:     ${clientId}\n`);
  out.write(`Client secret: ${created.client_secret}\n`);
  out.write(`Roles:         ${created.client.roles.join(', ')}\n`);
  out.write(
    'Store the secret now, for example as SLUICE_CLIENT_ID and SLUICE_CLIENT_SECRET: it is ' +
      'shown only this once and cannot be read back.\n',
  );
}

/** What happens to the secret a rotation replaced. */
function previousSecretLine(client: ClientInfo): string {
  const expiries = client.secrets
    .map((secret) => secret.expires_at)
    .filter((expiresAt): expiresAt is string => expiresAt !== null)
    .filter((expiresAt) => Date.parse(expiresAt) > Date.now())
    .sort();
  const last = expiries.at(-1);
  return last === undefined
    ? 'The previous secret no longer works.'
    : `The previous secret keeps working until ${last}.`;
}

/** One aligned line per client: name, roles, creation, and whether it is active. */
function clientTable(clients: readonly ClientInfo[]): string {
  const rows = clients.map((client) => [
    client.client_id,
    client.roles.join(','),
    client.created_at,
    statusOf(client),
  ]);
  const header = ['CLIENT', 'ROLES', 'CREATED', 'STATUS'];
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

function statusOf(client: ClientInfo): string {
  if (client.revoked_at !== null) return `revoked ${client.revoked_at}`;
  const live = client.secrets.filter(
    (secret) => secret.expires_at === null || Date.parse(secret.expires_at) > Date.now(),
  );
  const rotating = live
    .map((secret) => secret.expires_at)
    .filter((expiresAt): expiresAt is string => expiresAt !== null)
    .sort();
  const previous = rotating.length === 0 ? '' : ` (previous until ${rotating.at(-1)})`;
  return `active, ${live.length} ${live.length === 1 ? 'secret' : 'secrets'}${previous}`;
}

function parseFormat(format: string | undefined): boolean {
  if (format === undefined || format === 'text') return false;
  if (format === 'json') return true;
  throw new SluiceError('usage', `Unknown format '${format}'; use one of: text, json`);
}
