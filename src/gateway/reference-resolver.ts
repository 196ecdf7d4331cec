import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SluiceError } from '../core/errors.js';
import type { GatewayConfig } from '../project/project-config.js';
import { parseSecretReference, type SecretReference } from '../project/secret-reference.js';

/** Connection settings with every `${env:..}`/`${file:..}` reference replaced by its value. */
export type ResolvedSettings = Readonly<Record<string, string | number | boolean>>;

export type ResolveOptions = {
  readonly env?: NodeJS.ProcessEnv;
  /** Folder that relative `${file:..}` paths are read from (the project root). */
  readonly baseDir: string;
};

/**
 * Resolves a gateway's settings where the process runs (the Executor, or the CLI in local mode).
 * Errors name the gateway, the setting and the variable or file, never a value.
 */
export function resolveGatewaySettings(
  gateway: GatewayConfig,
  options: ResolveOptions,
): ResolvedSettings {
  const resolved: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(gateway.connection)) {
    resolved[key] = resolveSetting(gateway.name, key, value, options);
  }
  return resolved;
}

/** One setting of a gateway with its reference, if it is one, replaced by the value. */
export function resolveSetting(
  gateway: string,
  key: string,
  value: string | number | boolean,
  options: ResolveOptions,
): string | number | boolean {
  if (typeof value !== 'string') return value;
  const reference = parseSecretReference(value);
  if (reference === undefined) return value;

  if (reference.source === 'env') return readVariable(gateway, key, reference.name, options);
  return readFile(gateway, key, referencedPath(reference, options));
}

/**
 * Where a setting's value comes from, for messages: `environment variable NAME`, `file PATH` or
 * `sluice.yaml` for a value written there. Never the value.
 */
export function describeSettingOrigin(
  value: string | number | boolean,
  options: ResolveOptions,
): string {
  const reference = typeof value === 'string' ? parseSecretReference(value) : undefined;
  if (reference === undefined) return 'sluice.yaml';
  if (reference.source === 'env') return `environment variable ${reference.name}`;
  return `file ${referencedPath(reference, options)}`;
}

function readVariable(gateway: string, key: string, name: string, options: ResolveOptions) {
  const found = (options.env ?? process.env)[name];
  if (found !== undefined) return found;
  throw new SluiceError(
    'secret_unresolved',
    `Gateway '${gateway}' reads '${key}' from environment variable ${name}, which is ` +
      'not set; set it before running the command',
  );
}

function readFile(gateway: string, key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new SluiceError(
      'secret_unresolved',
      `Gateway '${gateway}' reads '${key}' from the file ${path}, which cannot be read; ` +
        'check that it exists and that this process may read it',
    );
  }
}

function referencedPath(
  reference: SecretReference & { source: 'file' },
  options: ResolveOptions,
): string {
  return isAbsolute(reference.path) ? reference.path : resolve(options.baseDir, reference.path);
}
