import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SluiceError } from '../core/errors.js';
import type { GatewayConfig } from '../project/project-config.js';
import { parseSecretReference } from '../project/secret-reference.js';

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
  const env = options.env ?? process.env;
  const resolved: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(gateway.connection)) {
    resolved[key] =
      typeof value === 'string' ? resolveValue(gateway.name, key, value, env, options) : value;
  }
  return resolved;
}

function resolveValue(
  gateway: string,
  key: string,
  value: string,
  env: NodeJS.ProcessEnv,
  options: ResolveOptions,
): string {
  const reference = parseSecretReference(value);
  if (reference === undefined) return value;

  if (reference.source === 'env') {
    const found = env[reference.name];
    if (found !== undefined) return found;
    throw new SluiceError(
      'secret_unresolved',
      `Gateway '${gateway}' reads '${key}' from environment variable ${reference.name}, which is ` +
        'not set; set it before running the command',
    );
  }

  const path = isAbsolute(reference.path)
    ? reference.path
    : resolve(options.baseDir, reference.path);
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
