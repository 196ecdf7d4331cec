import { SluiceError } from '../../core/errors.js';
import type {
  CredentialProvider,
  ProvidedParameter,
  ProvidedParameters,
} from '../credential-provider.js';

/**
 * Connection parameters from environment variables named
 * `SLUICE__GATEWAYS__<NAME>__CONNECTION__<PARAM>`.
 *
 * `<NAME>` is the gateway name upper-cased with every character other than a letter or a digit
 * (`-`, `.`, a space) written as `_`: gateway `warehouse-eu.prod` reads
 * `SLUICE__GATEWAYS__WAREHOUSE_EU_PROD__CONNECTION__PASSWORD`. Two gateways whose names differ only
 * in those characters (`a-b` and `a_b`) read the same variables. `<PARAM>` is the parameter name
 * upper-cased (`APPLICATION_NAME` sets `application_name`). Variable names are matched without
 * regard to case.
 */
export function createEnvProvider(env: NodeJS.ProcessEnv): CredentialProvider {
  return {
    name: 'env',
    parametersOf: async (gateway) => parametersOf(gateway, env),
  };
}

/** The prefix shared by every variable of a gateway, e.g. `SLUICE__GATEWAYS__WH__CONNECTION__`. */
export function gatewayVariablePrefix(gateway: string): string {
  return `SLUICE__GATEWAYS__${gateway.toUpperCase().replace(/[^A-Z0-9]/g, '_')}__CONNECTION__`;
}

/** The variable that sets one parameter of a gateway. */
export function connectionVariableName(gateway: string, parameter: string): string {
  return `${gatewayVariablePrefix(gateway)}${parameter.toUpperCase()}`;
}

function parametersOf(gateway: string, env: NodeJS.ProcessEnv): ProvidedParameters | undefined {
  const prefix = gatewayVariablePrefix(gateway);
  const found = new Map<string, ProvidedParameter & { readonly variable: string }>();

  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || !variable.toUpperCase().startsWith(prefix)) continue;

    const parameter = parameterOf(gateway, variable, prefix);
    const earlier = found.get(parameter);
    if (earlier !== undefined) throw spelledTwice(gateway, parameter, earlier.variable, variable);
    found.set(parameter, {
      variable,
      origin: `environment variable ${variable}`,
      read: async () => value,
    });
  }
  return found.size === 0 ? undefined : found;
}

function parameterOf(gateway: string, variable: string, prefix: string): string {
  const parameter = variable.slice(prefix.length).toLowerCase();
  if (/^[a-z0-9_]+$/.test(parameter)) return parameter;
  throw new SluiceError(
    'config_invalid',
    `Environment variable ${variable} for gateway '${gateway}' names no connection parameter ` +
      `after ${prefix}; end it with the parameter's name, e.g. ${prefix}PASSWORD`,
  );
}

function spelledTwice(gateway: string, parameter: string, first: string, second: string) {
  return new SluiceError(
    'config_invalid',
    `Gateway '${gateway}' gets '${parameter}' from both ${first} and ${second}, which differ ` +
      'only in case; unset one of them',
  );
}
