import { SluiceError } from '../../core/errors.js';

/**
 * Whether an Executor removes data values from engine error details before it sends log lines
 * and task errors to the Scheduler. `redact` is the default; `keep` is for deployments where the
 * Scheduler may see the data, such as one person's laptop.
 */
export type DataValuePolicy = 'redact' | 'keep';

/** The environment variable that sets the policy. */
export const DATA_VALUE_POLICY_VARIABLE = 'SLUICE_LOG_DATA_VALUES';

/** The policies, the default first. */
export const DATA_VALUE_POLICIES: readonly DataValuePolicy[] = ['redact', 'keep'];

/**
 * The policy `SLUICE_LOG_DATA_VALUES` sets in `env` (normally `process.env`): `redact` when it
 * is unset or blank; case and surrounding spaces do not matter. Any other value is a
 * `config_invalid` error naming the variable and the values it takes.
 */
export function dataValuePolicyFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): DataValuePolicy {
  const text = env[DATA_VALUE_POLICY_VARIABLE]?.trim().toLowerCase() ?? '';
  if (text === '') return 'redact';

  if (!isDataValuePolicy(text)) {
    throw new SluiceError(
      'config_invalid',
      `${DATA_VALUE_POLICY_VARIABLE} is '${text}', which is not a policy; set it to 'redact' ` +
        '(the default: data values in engine errors are replaced before logs leave the ' +
        "Executor) or 'keep' (they are sent as they are)",
    );
  }
  return text;
}

function isDataValuePolicy(text: string): text is DataValuePolicy {
  return (DATA_VALUE_POLICIES as readonly string[]).includes(text);
}
