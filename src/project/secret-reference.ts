/**
 * References to values kept outside the project: `${env:NAME}` and `${file:PATH}`. sluice.yaml may
 * hold secrets only as references; the Gateway or the Executor resolves them, never the loader.
 */

export type SecretReference =
  | { readonly source: 'env'; readonly name: string }
  | { readonly source: 'file'; readonly path: string };

const REFERENCE = /^\$\{(env|file):([^}]+)\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a value that is exactly one reference; anything else gives undefined. */
export function parseSecretReference(value: string): SecretReference | undefined {
  const match = REFERENCE.exec(value.trim());
  if (match === null) return undefined;

  const [, source, target = ''] = match;
  if (source === 'env') return ENV_NAME.test(target) ? { source: 'env', name: target } : undefined;
  return { source: 'file', path: target };
}

/** Connection settings whose values are secrets and so must be references. */
const SECRET_KEY = /(password|passwd|secret|token|private_key|credential|api_key)/i;

/** Whether a connection setting holds a secret by its name. */
export function isSecretSetting(key: string): boolean {
  return SECRET_KEY.test(key);
}
