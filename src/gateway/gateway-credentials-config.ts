import { isAbsolute } from 'node:path';
import { didYouMean, SluiceError } from '../core/errors.js';

/** The providers an Executor can resolve gateway credentials from. */
export const CREDENTIAL_PROVIDER_NAMES = ['env', 'files', 'project'] as const;

/** `env`: SLUICE__GATEWAYS__ variables; `files`: a secrets folder; `project`: sluice.yaml. */
export type CredentialProviderName = (typeof CREDENTIAL_PROVIDER_NAMES)[number];

/** The order used when SLUICE_GATEWAY_PROVIDERS is not set. */
export const DEFAULT_PROVIDER_ORDER: readonly CredentialProviderName[] = [
  'env',
  'files',
  'project',
];

/** How an Executor resolves gateway credentials, validated. */
export type GatewayCredentialsConfig = {
  /** Providers in the order they are asked; the first that has a parameter wins. */
  readonly providers: readonly CredentialProviderName[];
  /** Absolute folder of the `files` provider; set whenever `files` is in `providers`. */
  readonly secretsDir: string | undefined;
  /** A gateway whose files lie directly in `secretsDir` rather than in a folder of its name. */
  readonly secretsGateway: string | undefined;
};

/** The provider names as a message lists them. */
const PROVIDER_LIST = CREDENTIAL_PROVIDER_NAMES.join(', ');

/**
 * Reads `SLUICE_GATEWAY_PROVIDERS` (comma-separated, default `env,files,project`, where `files` is
 * left out while no folder is set), `SLUICE_GATEWAY_SECRETS_DIR` (absolute folder of the `files`
 * provider) and `SLUICE_GATEWAY_SECRETS_GATEWAY` (the one gateway whose files lie directly in that
 * folder). A blank variable counts as not set. Throws `config_invalid` saying which variable to
 * fix.
 */
export function readGatewayCredentialsConfig(env: NodeJS.ProcessEnv): GatewayCredentialsConfig {
  const secretsDir = readSecretsDir(env);
  const secretsGateway = variableOf(env, 'SLUICE_GATEWAY_SECRETS_GATEWAY');
  const listed = variableOf(env, 'SLUICE_GATEWAY_PROVIDERS');
  const providers =
    listed === undefined
      ? DEFAULT_PROVIDER_ORDER.filter((name) => name !== 'files' || secretsDir !== undefined)
      : parseProviderList(listed);

  if (secretsDir === undefined && providers.includes('files')) {
    throw invalid(
      "SLUICE_GATEWAY_PROVIDERS includes 'files' but SLUICE_GATEWAY_SECRETS_DIR is not set; " +
        'set it to the folder where the secrets are mounted, or remove files from the list',
    );
  }
  if (secretsGateway !== undefined && secretsDir === undefined) {
    throw invalid(
      'SLUICE_GATEWAY_SECRETS_GATEWAY is set but SLUICE_GATEWAY_SECRETS_DIR is not; set the ' +
        "folder that holds that gateway's files",
    );
  }
  return Object.freeze({ providers: Object.freeze(providers), secretsDir, secretsGateway });
}

/** Parses a list such as `env, files ,project`: known names, each once, at least one. */
export function parseProviderList(text: string): CredentialProviderName[] {
  const names = text.split(',').map((name) => name.trim().toLowerCase());
  const providers: CredentialProviderName[] = [];
  for (const name of names) {
    if (name === '') continue;
    if (!isProviderName(name)) {
      throw invalid(
        `SLUICE_GATEWAY_PROVIDERS names an unknown provider '${name}'; use any of ` +
          `${PROVIDER_LIST}, separated by commas.${didYouMean(name, CREDENTIAL_PROVIDER_NAMES)}`,
      );
    }
    if (providers.includes(name)) {
      throw invalid(`SLUICE_GATEWAY_PROVIDERS names '${name}' twice; list each provider once`);
    }
    providers.push(name);
  }
  if (providers.length > 0) return providers;
  throw invalid(`SLUICE_GATEWAY_PROVIDERS names no provider; list some of ${PROVIDER_LIST}`);
}

function readSecretsDir(env: NodeJS.ProcessEnv): string | undefined {
  const dir = variableOf(env, 'SLUICE_GATEWAY_SECRETS_DIR');
  if (dir === undefined || isAbsolute(dir)) return dir;
  throw invalid(
    `SLUICE_GATEWAY_SECRETS_DIR is the relative path '${dir}'; set an absolute path such as ` +
      '/var/run/secrets/sluice',
  );
}

function isProviderName(name: string): name is CredentialProviderName {
  return (CREDENTIAL_PROVIDER_NAMES as readonly string[]).includes(name);
}

function variableOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function invalid(message: string): SluiceError {
  return new SluiceError('config_invalid', message);
}
