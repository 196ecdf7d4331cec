import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { z } from 'zod';
import { SluiceError } from '../../core/errors.js';
import type { EngineConnection } from '../create-engine-adapter.js';

/**
 * Connections per gateway. sluice.yaml has no `pool_size` setting yet, so every PostgreSQL
 * gateway gets this fixed pool size.
 */
export const POOL_SIZE = 5;
export const CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_PORT = 5432;
export const DEFAULT_APPLICATION_NAME = 'sluice';

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** libpq's sslmode values, as written in sluice.yaml. */
export type SslMode = (typeof SSL_MODES)[number];

const settingsSchema = z.object({
  host: z.string().min(1),
  port: z.union([z.number(), z.string()]).optional(),
  database: z.string().min(1),
  user: z.string().min(1),
  password: z.string().optional(),
  sslmode: z.enum(SSL_MODES).optional(),
  application_name: z.string().optional(),
});

/** A gateway's PostgreSQL settings, validated, with defaults applied. */
export type PostgresSettings = {
  readonly gateway: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | undefined;
  readonly sslMode: SslMode;
  readonly applicationName: string;
};

/** Validates a gateway's connection settings; throws `config_invalid` without echoing values. */
export function readPostgresSettings(connection: EngineConnection): PostgresSettings {
  const parsed = settingsSchema.safeParse(connection.settings);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
    throw settingsError(connection.gateway, `check ${fields.map((f) => `'${f}'`).join(', ')}`);
  }

  const settings = parsed.data;
  return {
    gateway: connection.gateway,
    host: settings.host,
    port: readPort(connection.gateway, settings.port),
    database: settings.database,
    user: settings.user,
    password: settings.password,
    sslMode: settings.sslmode ?? 'disable',
    applicationName: settings.application_name ?? DEFAULT_APPLICATION_NAME,
  };
}

/** `host:port/database`, the way messages name the server (never with user or password). */
export function describeTarget(settings: PostgresSettings): string {
  return `${settings.host}:${settings.port}/${settings.database}`;
}

/**
 * The ways to try TLS for a sslmode, in order. node-postgres cannot fall back by itself, so
 * `prefer` (TLS, then plain) and `allow` (plain, then TLS) give two attempts that the adapter
 * tries in turn. No sslrootcert setting exists yet, so verification uses Node's default CAs.
 */
export function sslAttempts(mode: SslMode): readonly (false | ConnectionOptions)[] {
  const unverified: ConnectionOptions = { rejectUnauthorized: false };
  switch (mode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, unverified];
    case 'prefer':
      return [unverified, false];
    case 'require':
      return [unverified];
    case 'verify-ca':
      return [{ rejectUnauthorized: true, checkServerIdentity: () => undefined }];
    case 'verify-full':
      return [{ rejectUnauthorized: true }];
  }
}

/** The node-postgres client settings for one TLS attempt. */
export function clientConfig(
  settings: PostgresSettings,
  ssl: false | ConnectionOptions,
  types: pg.CustomTypesConfig,
): pg.ClientConfig {
  return {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.user,
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ssl,
    application_name: settings.applicationName,
    // Every session in UTC, as on DuckDB, so that casts between TIMESTAMPTZ, TIMESTAMP and DATE
    // do not depend on the server's configuration.
    options: '-c TimeZone=UTC',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types,
  };
}

function readPort(gateway: string, port: number | string | undefined): number {
  if (port === undefined) return DEFAULT_PORT;
  const value = typeof port === 'number' ? port : Number(port.trim());
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw settingsError(gateway, "set 'port' to a number between 1 and 65535");
  }
  return value;
}

function settingsError(gateway: string, fix: string): SluiceError {
  return new SluiceError(
    'config_invalid',
    `Gateway '${gateway}' has invalid PostgreSQL connection settings; ${fix} under ` +
      `gateways.${gateway}.connection in sluice.yaml`,
  );
}
