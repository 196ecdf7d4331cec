import type { Row } from '../../engines/engine-adapter.js';

/**
 * A result row with values that survive JSON: dates as ISO text, bigints as numbers when they
 * fit and as text otherwise, bytes as hex text, plain objects member by member, anything else as
 * its text.
 */
export function jsonSafeRow(row: Row): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([name, value]) => [name, jsonSafe(value)]));
}

function jsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(jsonSafe);
  const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (prototype === Object.prototype || prototype === null) {
    const entries = Object.entries(value as Record<string, unknown>);
    return Object.fromEntries(entries.map(([name, inner]) => [name, jsonSafe(inner)]));
  }
  return String(value);
}
