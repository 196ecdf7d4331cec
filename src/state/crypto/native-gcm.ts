import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The native batch opener of AES-256-GCM payloads (native/payload-gcm.c beside this file), built
 * by `npm install`
 * through node-gyp into build/Release/. It is found from this file's folder, which lies three
 * levels below the package root both as source (src/state/crypto) and compiled (dist/state/crypto).
 * When it is missing (installed with --ignore-scripts, or no compiler), payloads are opened with
 * node:crypto instead, which is correct but several times slower on large batches.
 */

/** The addon's one function; native/payload-gcm.c documents the arguments. */
export type OpenBatch = (
  key: Buffer,
  payloads: readonly Buffer[],
  bodyStarts: Uint32Array,
  aad: Buffer,
  aadOffsets: Uint32Array,
  out: Buffer,
  outOffsets: Uint32Array,
) => number;

const ADDON_PATH = fileURLToPath(
  new URL('../../../build/Release/payload_gcm.node', import.meta.url),
);

let loaded: OpenBatch | null | undefined;

/** The addon's `openBatch`, or undefined when it was not built. */
export function nativeOpenBatch(): OpenBatch | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

function load(): OpenBatch | null {
  if (!existsSync(ADDON_PATH)) return null;
  const addon = createRequire(import.meta.url)(ADDON_PATH) as { openBatch?: OpenBatch };
  return typeof addon.openBatch === 'function' ? addon.openBatch : null;
}
