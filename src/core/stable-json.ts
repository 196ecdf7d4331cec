/**
 * JSON text that depends only on a value, never on how it was built: object keys are sorted, so
 * the same value always gives the same text and so the same hash. Fingerprints hash this text.
 * It is JSON.stringify's text with keys sorted and no spaces, which other tools can reproduce to
 * check a hash.
 */

import { SluiceError } from './errors.js';

/** A value stable JSON can write; an undefined object member is left out, as if absent. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/**
 * Writes a value as JSON with object keys sorted by UTF-16 code unit (locale-independent).
 * Members whose value is undefined are left out, so a field added later that is unset leaves
 * every existing hash as it was. Non-finite numbers are refused: JSON would write them as null.
 */
export function stableJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return numberJson(value);
  if (isArray(value)) return `[${value.map(stableJson).join(',')}]`;

  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${stableJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

function numberJson(value: number): string {
  if (!Number.isFinite(value)) {
    throw new SluiceError('internal', `Stable JSON cannot write the number ${value}`);
  }
  return JSON.stringify(value);
}

function isArray(value: JsonValue): value is readonly JsonValue[] {
  return Array.isArray(value);
}
