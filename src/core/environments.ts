import { SluiceError } from './errors.js';
import { fitIdentifier } from './physical-table.js';
import { type TableName, tableOfModelName } from './table-resolver.js';

/**
 * Environments and their virtual layer: `prod` shows each model as the view `<schema>.<name>`,
 * any other environment as `<schema>__<env>.<name>`; each view selects from its version's
 * physical table.
 */

/** The environment that production reads. */
export const PROD = 'prod';

/** How long an unused environment other than prod lives, unless the project says otherwise. */
export const DEFAULT_ENVIRONMENT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const ENVIRONMENT_NAME = /^[a-z][a-z0-9_]{0,39}$/;

/** Checks an environment name: lower-case letters, digits and `_`, starting with a letter. */
export function checkEnvironmentName(name: string): string {
  if (ENVIRONMENT_NAME.test(name) && !name.includes('__')) return name;
  throw new SluiceError(
    'usage',
    `'${name}' is not a valid environment name: use up to 40 lower-case letters, digits and ` +
      "single underscores, starting with a letter, such as 'dev' or 'feature_x'",
  );
}

/** The view that shows `modelName` in `environment`. */
export function viewOf(
  modelName: string,
  environment: string,
  identifierLimitBytes: number | undefined,
): TableName {
  const table = tableOfModelName(modelName);
  const schema = table.schema === '' ? 'default' : table.schema;
  const viewSchema = environment === PROD ? schema : `${schema}__${environment}`;
  return { schema: fitIdentifier(viewSchema, identifierLimitBytes), name: table.name };
}
