import type { GatewayConfig } from '../../project/project-config.js';
import type {
  CredentialProvider,
  ProvidedParameter,
  ProvidedParameters,
} from '../credential-provider.js';
import { describeSettingOrigin, resolveSetting } from '../reference-resolver.js';

/** What the project provider reads: the project's gateways and where its files are. */
export type ProjectProviderOptions = {
  readonly gateways: ReadonlyMap<string, GatewayConfig>;
  /** Folder that relative `${file:..}` paths are read from (the project root). */
  readonly baseDir: string;
  /** Where `${env:..}` references are looked up. */
  readonly env: NodeJS.ProcessEnv;
};

/**
 * The connection settings a gateway has in sluice.yaml, with `${env:..}`/`${file:..}` references
 * resolved when the setting is chosen (a reference that another provider overrides is never read).
 *
 * Shortcoming: in a hybrid deployment sluice.yaml arrives from the Scheduler, and a `${file:..}`
 * reference may name any file the Executor can read; put into a setting such as `host`, its content
 * can reach an engine error message. Until references are confined to allowed folders, leave
 * `project` out of SLUICE_GATEWAY_PROVIDERS there (plain sluice.yaml values still apply).
 */
export function createProjectProvider(options: ProjectProviderOptions): CredentialProvider {
  return {
    name: 'project',
    parametersOf: async (name) => {
      const gateway = options.gateways.get(name);
      return gateway === undefined ? undefined : parametersOf(gateway, options);
    },
  };
}

function parametersOf(gateway: GatewayConfig, options: ProjectProviderOptions): ProvidedParameters {
  const parameters = new Map<string, ProvidedParameter>();
  for (const [key, value] of Object.entries(gateway.connection)) {
    parameters.set(key, {
      origin: describeSettingOrigin(value, options),
      read: async () => resolveSetting(gateway.name, key, value, options),
    });
  }
  return parameters;
}
