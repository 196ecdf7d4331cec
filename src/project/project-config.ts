import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { DEFAULT_ENVIRONMENT_TTL_MS } from '../core/environments.js';
import { SluiceError } from '../core/errors.js';
import {
  BUILT_IN_MODEL_DEFAULTS,
  type Dialect,
  INTERVAL_UNITS,
  type ModelDefaults,
} from '../core/model.js';
import type { MacroValue } from '../sql/macro-context.js';
import { isSecretSetting, parseSecretReference } from './secret-reference.js';
import { parseYamlFile, validateYaml, type YamlFile } from './yaml-file.js';

export const PROJECT_FILE = 'sluice.yaml';

/** The engines a gateway can connect to. */
export type EngineType = 'duckdb' | 'postgres';

/** A named connection to an engine; values may be `${env:..}`/`${file:..}` references. */
export type GatewayConfig = {
  readonly name: string;
  readonly type: EngineType;
  readonly connection: Readonly<Record<string, string | number | boolean>>;
};

/** The validated content of sluice.yaml. */
export type ProjectConfig = {
  readonly name: string;
  readonly file: string;
  readonly gateways: ReadonlyMap<string, GatewayConfig>;
  readonly defaultGateway: string;
  readonly modelDefaults: ModelDefaults;
  readonly variables: Readonly<Record<string, MacroValue>>;
  /** How long an environment other than prod lives without being used. */
  readonly environmentTtlMs: number;
  /** How long a table stays once no live environment uses it; then the janitor drops it. */
  readonly tableTtlMs: number;
};

/** How long an unused physical table stays, unless sluice.yaml sets `table_ttl`. */
export const DEFAULT_TABLE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const duckdbConnection = z.strictObject({
  type: z.literal('duckdb'),
  database: z.string().min(1).optional(),
  threads: z.number().int().positive().optional(),
  memory_limit: z.string().optional(),
});

const postgresConnection = z.strictObject({
  type: z.enum(['postgres', 'postgresql']),
  host: z.string().min(1),
  port: z.union([z.number().int().min(1).max(65535), z.string()]).optional(),
  database: z.string().min(1),
  user: z.string().min(1),
  password: z.string().optional(),
  sslmode: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
  application_name: z.string().optional(),
});

const CONNECTION_KEYS: Record<EngineType, readonly string[]> = {
  duckdb: Object.keys(duckdbConnection.shape),
  postgres: Object.keys(postgresConnection.shape),
};

const gatewaySchema = z.strictObject({
  connection: z.discriminatedUnion('type', [duckdbConnection, postgresConnection]),
});

const variableValue: z.ZodType<MacroValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(variableValue)]),
);

const modelDefaultsSchema = z.strictObject({
  dialect: z.enum(['duckdb', 'postgres', 'postgresql']).optional(),
  cron: z.string().min(1).optional(),
  cron_tz: z.string().min(1).optional(),
  owner: z.string().optional(),
  start: z.union([z.string(), z.number()]).optional(),
  interval_unit: z.enum(INTERVAL_UNITS).optional(),
  allow_partials: z.boolean().optional(),
  enabled: z.boolean().optional(),
});

const projectSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'use letters, digits, _ and -'),
  gateways: z.record(z.string(), gatewaySchema).optional(),
  default_gateway: z.string().optional(),
  model_defaults: modelDefaultsSchema.optional(),
  variables: z.record(z.string(), variableValue).optional(),
  environment_ttl: z.string().min(1).optional(),
  table_ttl: z.string().min(1).optional(),
});

type RawProject = z.infer<typeof projectSchema>;

const TOP_KEYS = Object.keys(projectSchema.shape);
const DEFAULT_KEYS = Object.keys(modelDefaultsSchema.shape);

/** Reads and validates `sluice.yaml` in a project folder. */
export async function loadProjectConfig(root: string): Promise<ProjectConfig> {
  const text = await readProjectFile(root);
  return parseProjectConfig(PROJECT_FILE, text);
}

/** Validates the text of sluice.yaml; `file` names it in errors. */
export function parseProjectConfig(file: string, text: string): ProjectConfig {
  const yaml = parseYamlFile(file, text);
  rejectLiteralSecrets(yaml);
  const raw = validateYaml(yaml, projectSchema, { allowedKeys });

  const gateways = toGateways(raw);
  const defaultGateway = raw.default_gateway ?? gateways.keys().next().value ?? 'local';
  if (!gateways.has(defaultGateway)) {
    throw new SluiceError(
      'config_invalid',
      `default_gateway '${defaultGateway}' is not one of the gateways in ${file}; ` +
        `define it under gateways or choose one of: ${[...gateways.keys()].join(', ')}`,
      { location: yaml.locate(['default_gateway']) },
    );
  }

  return {
    name: raw.name,
    file,
    gateways,
    defaultGateway,
    modelDefaults: toModelDefaults(raw, gateways.get(defaultGateway)?.type ?? 'duckdb'),
    variables: lowerCaseKeys(raw.variables ?? {}),
    environmentTtlMs: durationOf(raw, 'environment_ttl', DEFAULT_ENVIRONMENT_TTL_MS, yaml),
    tableTtlMs: durationOf(raw, 'table_ttl', DEFAULT_TABLE_TTL_MS, yaml),
  };
}

function durationOf(
  raw: RawProject,
  key: 'environment_ttl' | 'table_ttl',
  defaultMs: number,
  yaml: ReturnType<typeof parseYamlFile>,
): number {
  const text = raw[key];
  if (text === undefined) return defaultMs;
  try {
    return parseDuration(text, `${key} in ${yaml.file}`);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    throw new SluiceError(error.code, error.message, { location: yaml.locate([key]) });
  }
}

async function readProjectFile(root: string): Promise<string> {
  try {
    return await readFile(join(root, PROJECT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new SluiceError(
      'project_not_found',
      `No ${PROJECT_FILE} in ${root}; run 'sluice init' there or pass --project DIR`,
    );
  }
}

function allowedKeys(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return TOP_KEYS;
  if (path[0] === 'model_defaults') return DEFAULT_KEYS;
  if (path[0] === 'gateways' && path.length === 2) return ['connection'];
  return [...CONNECTION_KEYS.duckdb, ...CONNECTION_KEYS.postgres];
}

/** A secret written as a literal is refused before anything else, without echoing its value. */
function rejectLiteralSecrets(yaml: YamlFile): void {
  const gateways = (yaml.value as { gateways?: unknown }).gateways;
  if (typeof gateways !== 'object' || gateways === null) return;

  for (const [name, gateway] of Object.entries(gateways)) {
    const connection = (gateway as { connection?: unknown } | null)?.connection;
    if (typeof connection !== 'object' || connection === null) continue;
    for (const [key, value] of Object.entries(connection)) {
      if (!isSecretSetting(key) || value === null || value === undefined) continue;
      if (typeof value === 'string' && parseSecretReference(value) !== undefined) continue;
      throw literalSecretError(yaml, name, key);
    }
  }
}

function literalSecretError(yaml: YamlFile, gateway: string, key: string): SluiceError {
  const variable = `${gateway}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return new SluiceError(
    'secret_literal',
    `Gateway '${gateway}' sets '${key}' to a literal value in ${yaml.file}; secrets may only be ` +
      `references. Write ${key}: \${env:${variable}} or ${key}: \${file:/path/to/secret} ` +
      'and remove the value from the file (and from its history)',
    { location: yaml.locate(['gateways', gateway, 'connection', key]) },
  );
}

function toGateways(raw: RawProject): Map<string, GatewayConfig> {
  const gateways = new Map<string, GatewayConfig>();
  for (const [name, gateway] of Object.entries(raw.gateways ?? {})) {
    const { type, ...settings } = gateway.connection;
    const engine: EngineType = type === 'duckdb' ? 'duckdb' : 'postgres';
    const connection = Object.fromEntries(
      Object.entries(settings).filter(([, value]) => value !== undefined),
    ) as Record<string, string | number | boolean>;
    gateways.set(name, { name, type: engine, connection });
  }
  if (gateways.size === 0) {
    gateways.set('local', { name: 'local', type: 'duckdb', connection: {} });
  }
  return gateways;
}

function toModelDefaults(raw: RawProject, engine: EngineType): ModelDefaults {
  const given = raw.model_defaults ?? {};
  const dialect: Dialect =
    given.dialect === undefined ? engine : given.dialect === 'duckdb' ? 'duckdb' : 'postgres';
  return {
    dialect,
    cron: given.cron ?? BUILT_IN_MODEL_DEFAULTS.cron,
    cronTimeZone: given.cron_tz ?? BUILT_IN_MODEL_DEFAULTS.cronTimeZone,
    owner: given.owner ?? BUILT_IN_MODEL_DEFAULTS.owner,
    start: given.start === undefined ? undefined : String(given.start),
    intervalUnit: given.interval_unit ?? BUILT_IN_MODEL_DEFAULTS.intervalUnit,
    allowsPartials: given.allow_partials ?? BUILT_IN_MODEL_DEFAULTS.allowsPartials,
    isEnabled: given.enabled ?? BUILT_IN_MODEL_DEFAULTS.isEnabled,
  };
}

function lowerCaseKeys(values: Record<string, MacroValue>): Record<string, MacroValue> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key.toLowerCase(), value]),
  );
}
