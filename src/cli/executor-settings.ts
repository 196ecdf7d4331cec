import { SluiceError } from '../core/errors.js';
import type { ClientCredentials } from '../executor/protocol/access-tokens.js';
import { readUserFile } from './user-files.js';

/**
 * Where an Executor finds the Scheduler and its OAuth client: SLUICE_URL, SLUICE_CLIENT_ID and
 * SLUICE_CLIENT_SECRET in its environment, or in an env file (`--env-file`, or SLUICE_ENV_FILE),
 * such as a mounted Kubernetes Secret. The file is read again each time a token is fetched, so a
 * secret rotated in it is used from the next token on, without a restart; a variable set in the
 * process's environment is overridden by the file.
 */

/** The variables an Executor reads. */
export const EXECUTOR_VARIABLES = ['SLUICE_URL', 'SLUICE_CLIENT_ID', 'SLUICE_CLIENT_SECRET'];

/** Reads the Executor's variables from `env`, overridden by the env file when there is one. */
export type ExecutorSettingsSource = {
  /** The Scheduler's URL, as read at start. */
  readonly url: string;
  /** The client's credentials as they are now: the env file is read again on each call. */
  credentials(): Promise<ClientCredentials>;
};

/** Reads the settings once to check them, and returns a source that reads them again. */
export async function executorSettings(
  env: NodeJS.ProcessEnv,
  envFile: string | undefined,
): Promise<ExecutorSettingsSource> {
  const read = async () => ({
    ...pick(env),
    ...(envFile === undefined ? {} : await readEnvFile(envFile)),
  });
  const first = await read();
  const url = required(first, 'SLUICE_URL', envFile);
  credentialsOf(first, envFile);
  return { url, credentials: async () => credentialsOf(await read(), envFile) };
}

function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of EXECUTOR_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') picked[name] = value;
  }
  return picked;
}

function credentialsOf(values: Record<string, string>, envFile: string | undefined) {
  return {
    clientId: required(values, 'SLUICE_CLIENT_ID', envFile),
    clientSecret: required(values, 'SLUICE_CLIENT_SECRET', envFile),
  };
}

function required(values: Record<string, string>, name: string, envFile: string | undefined) {
  const value = values[name];
  if (value !== undefined) return value;
  const where = envFile === undefined ? 'the environment' : `the environment or ${envFile}`;
  throw new SluiceError(
    'usage',
    `${name} is not set in ${where}; an Executor needs SLUICE_URL, SLUICE_CLIENT_ID and ` +
      'SLUICE_CLIENT_SECRET (create the client with `sluice clients create NAME --role ' +
      'executor:run`)',
  );
}

/**
 * Reads `NAME=value` lines (blank lines and `#` comments skipped, one pair of surrounding quotes
 * removed); only the Executor's variables are kept. Errors name the file and line, never a value.
 */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  return parseEnvText(path, (await readUserFile(path, 'env')).toString('utf8'));
}

function parseEnvText(path: string, text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (match === null) {
      throw new SluiceError(
        'usage',
        `Line ${index + 1} of the env file '${path}' is not NAME=value; fix or remove it`,
      );
    }
    const [, name = '', value = ''] = match;
    if (EXECUTOR_VARIABLES.includes(name)) values[name] = unquote(value.trim());
  }
  return values;
}

function unquote(value: string): string {
  const isQuoted = /^(['"]).*\1$/.test(value) && value.length >= 2;
  return isQuoted ? value.slice(1, -1) : value;
}
