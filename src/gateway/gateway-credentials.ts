import { didYouMean, SluiceError } from '../core/errors.js';
import type { EngineType, GatewayConfig } from '../project/project-config.js';
import { parseSecretReference } from '../project/secret-reference.js';
import type {
  CredentialProvider,
  ParameterValue,
  ProvidedParameter,
  ProvidedParameters,
} from './credential-provider.js';
import {
  type GatewayCredentialsConfig,
  readGatewayCredentialsConfig,
} from './gateway-credentials-config.js';
import { createEnvProvider } from './providers/env-provider.js';
import { createFileProvider } from './providers/file-provider.js';
import { createProjectProvider } from './providers/project-provider.js';

/** What the resolver needs: the project's gateways, its folder and the process environment. */
export type GatewayCredentialsOptions = {
  readonly gateways: ReadonlyMap<string, GatewayConfig>;
  /** The project root: relative `${file:..}` paths and DuckDB database paths start here. */
  readonly baseDir: string;
  /** Read by the `env` provider and by `${env:..}` references; usually process.env. */
  readonly env: NodeJS.ProcessEnv;
  /** Which providers, in which order; read from `env` when not given. */
  readonly config?: GatewayCredentialsConfig;
  /** Providers to ask instead of those `config` names, first to last. */
  readonly providers?: readonly CredentialProvider[];
};

/**
 * A gateway's connection, in the shape createEngineAdapter takes (EngineConnection; the gateway
 * folder may not import engines), and where each setting came from.
 */
export type ResolvedGateway = {
  readonly gateway: string;
  readonly type: EngineType;
  readonly settings: Readonly<Record<string, ParameterValue>>;
  /** The project root: relative DuckDB database paths start here. */
  readonly baseDir: string;
  /** Per setting: `environment variable NAME`, `file PATH` or `sluice.yaml`; never a value. */
  readonly origins: Readonly<Record<string, string>>;
};

/**
 * Resolves gateway names to engine connections; values live in memory only, never cached. An
 * adapter opened with a result keeps its settings: a rotated secret reaches an engine only through
 * a later resolve and a newly opened adapter.
 */
export type GatewayCredentials = {
  /** The providers' names in the order they are asked, for a startup log line. */
  readonly providerNames: readonly string[];
  /** Asks the providers again on every call, so rotated secrets are picked up. */
  resolve(gateway: string): Promise<ResolvedGateway>;
};

/**
 * Builds the resolver an Executor uses: each connection parameter comes from the first provider
 * that has it, over the gateway's settings in sluice.yaml. With `project` left out of the
 * providers, the plain values written in sluice.yaml still apply but its `${env:..}`/`${file:..}`
 * references are not followed: each such parameter must then come from another provider.
 */
export function createGatewayCredentials(options: GatewayCredentialsOptions): GatewayCredentials {
  const providers = options.providers ?? providersOf(options);
  return {
    providerNames: providers.map((provider) => provider.name),
    resolve: async (name) => resolveGateway(gatewayOf(options.gateways, name), providers, options),
  };
}

/** The providers a configuration names, in its order. */
export function createProviders(
  config: GatewayCredentialsConfig,
  options: Omit<GatewayCredentialsOptions, 'config' | 'providers'>,
): CredentialProvider[] {
  return config.providers.map((name) => {
    if (name === 'env') return createEnvProvider(options.env);
    if (name === 'project') return createProjectProvider(options);
    const dir = config.secretsDir;
    if (dir === undefined) {
      throw new SluiceError(
        'config_invalid',
        "The 'files' credential provider needs a folder; set SLUICE_GATEWAY_SECRETS_DIR",
      );
    }
    return config.secretsGateway === undefined
      ? createFileProvider({ dir })
      : createFileProvider({ dir, flatGateway: config.secretsGateway });
  });
}

function providersOf(options: GatewayCredentialsOptions): CredentialProvider[] {
  return createProviders(options.config ?? readGatewayCredentialsConfig(options.env), options);
}

async function resolveGateway(
  gateway: GatewayConfig,
  providers: readonly CredentialProvider[],
  options: GatewayCredentialsOptions,
): Promise<ResolvedGateway> {
  const listings = await Promise.all(providers.map((p) => p.parametersOf(gateway.name)));
  const known = listings.filter((listing) => listing !== undefined);
  const names = new Set([
    ...Object.keys(gateway.connection),
    ...known.flatMap((l) => [...l.keys()]),
  ]);

  // Shortcoming: a misspelt parameter from a variable or file (`pasword`) is passed on, and the
  // PostgreSQL adapter ignores names it does not know; checking names against the engine's
  // settings (the key lists in project-config.ts, not exported yet) would catch it here.
  const settings: Record<string, ParameterValue> = {};
  const origins: Record<string, string> = {};
  for (const name of names) {
    const chosen = firstHaving(known, name) ?? fromProjectFile(gateway, name);
    if (name === 'type') throw typeOverridden(gateway.name, chosen.origin);
    settings[name] = await chosen.read();
    origins[name] = chosen.origin;
  }

  return {
    gateway: gateway.name,
    type: gateway.type,
    settings: Object.freeze(settings),
    baseDir: options.baseDir,
    origins: Object.freeze(origins),
  };
}

function firstHaving(listings: readonly ProvidedParameters[], name: string) {
  for (const listing of listings) {
    const parameter = listing.get(name);
    if (parameter !== undefined) return parameter;
  }
  return undefined;
}

/** A plain value written in sluice.yaml, used when no provider has the parameter. */
function fromProjectFile(gateway: GatewayConfig, name: string): ProvidedParameter {
  const value = gateway.connection[name];
  if (value === undefined)
    throw new SluiceError('internal', `Gateway '${gateway.name}' has no source for '${name}'`);
  if (typeof value === 'string' && parseSecretReference(value) !== undefined) {
    throw new SluiceError(
      'secret_unresolved',
      `Gateway '${gateway.name}' sets '${name}' in sluice.yaml by a reference, which is not ` +
        "followed because 'project' is not in SLUICE_GATEWAY_PROVIDERS, and no other provider " +
        `has it; provide '${name}' as a variable or a file, or add project to the providers`,
    );
  }
  return { origin: 'sluice.yaml', read: async () => value };
}

function gatewayOf(gateways: ReadonlyMap<string, GatewayConfig>, name: string): GatewayConfig {
  const gateway = gateways.get(name);
  if (gateway !== undefined) return gateway;
  throw new SluiceError(
    'config_invalid',
    `Gateway '${name}' is not defined in sluice.yaml; define it under gateways or use one of: ` +
      `${[...gateways.keys()].join(', ')}.${didYouMean(name, gateways.keys())}`,
  );
}

function typeOverridden(gateway: string, origin: string): SluiceError {
  return new SluiceError(
    'config_invalid',
    `Gateway '${gateway}' gets 'type' from ${origin}, but the engine type is set in sluice.yaml ` +
      'only; remove it from there',
  );
}
