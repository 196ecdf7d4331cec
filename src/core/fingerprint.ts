/**
 * Model fingerprints (DESIGN.md section 4). A fingerprint hashes a model's data parts, its
 * metadata parts and its parents' versions; the version covers only data and parents, so a
 * metadata-only change keeps the version and the physical table.
 *
 * Versions name tables and are stored, so they must stay the same across Sluice releases: the
 * hashes are SHA-256 over stable JSON (sorted keys), the parts use pinned keys, and the canonical
 * query is pinned too (src/sql/canonical-sql.ts). A release that must change any of this changes
 * FINGERPRINT_FORMAT and says how existing versions migrate. A test pins the example project's
 * versions, so an accidental change fails it.
 */

import { createHash } from 'node:crypto';
import { dataPartsOf, type ModelDataInputs, metadataPartsOf } from './fingerprint-parts.js';
import type { ModelDefinition } from './model.js';
import { stableJson } from './stable-json.js';

/** The name of the fingerprint format; it is hashed into every version. */
export const FINGERPRINT_FORMAT = 'sluice-version-1';

/** How many hex characters of SHA-256 a version keeps (48 bits). */
export const VERSION_HEX_LENGTH = 12;

/** A model's fingerprint: what its version is computed from, and the version. */
export type ModelFingerprint = {
  /** SHA-256 (hex) of the data parts. */
  readonly dataHash: string;
  /** SHA-256 (hex) of the metadata parts. */
  readonly metadataHash: string;
  /** The first 12 hex characters of SHA-256 over the format, the data hash and the parents. */
  readonly version: string;
  /** The versions of the models it reads, by name. */
  readonly parentVersions: Readonly<Record<string, string>>;
};

/** Everything a fingerprint needs beyond the model's definition. */
export type FingerprintInputs = ModelDataInputs & {
  /** The versions of the model's parents (every model it depends on) by name. */
  readonly parentVersions: Readonly<Record<string, string>>;
};

/** Computes a model's fingerprint from its definition and what outer layers computed for it. */
export function fingerprintModel(
  model: ModelDefinition,
  inputs: FingerprintInputs,
): ModelFingerprint {
  const dataHash = sha256Hex(stableJson(dataPartsOf(model, inputs)));
  const metadataHash = sha256Hex(stableJson(metadataPartsOf(model)));
  const parentVersions = sortedByName(inputs.parentVersions);

  return {
    dataHash,
    metadataHash,
    version: versionOf(dataHash, parentVersions),
    parentVersions,
  };
}

/**
 * A version from a data hash and the parents' versions. Parents enter by name and version, so a
 * new version of any parent, or a parent added or removed, makes a new version downstream.
 */
export function versionOf(
  dataHash: string,
  parentVersions: Readonly<Record<string, string>>,
): string {
  const hashed = stableJson({
    format: FINGERPRINT_FORMAT,
    data: dataHash,
    parents: parentVersions,
  });
  return sha256Hex(hashed).slice(0, VERSION_HEX_LENGTH);
}

/** SHA-256 of a text's UTF-8 bytes, in lower-case hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A copy with keys in name order; fromEntries keeps a name such as `__proto__` an own key. */
function sortedByName(record: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const entries = Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.freeze(Object.fromEntries(entries));
}
