import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { DEFAULT_TABLE_TTL_MS, parseProjectConfig } from '../../src/project/project-config.js';

/** `table_ttl` in sluice.yaml: how long the janitor keeps a table no environment uses. */

describe('table_ttl', () => {
  it('defaults to seven days', () => {
    const config = parseProjectConfig('sluice.yaml', 'name: shop\n');

    expect(config.tableTtlMs).toBe(DEFAULT_TABLE_TTL_MS);
    expect(DEFAULT_TABLE_TTL_MS).toBe(7 * 24 * 3_600_000);
  });

  it('reads a duration such as 12 hours', () => {
    const config = parseProjectConfig('sluice.yaml', 'name: shop\ntable_ttl: 12 hours\n');

    expect(config.tableTtlMs).toBe(12 * 3_600_000);
  });

  it('refuses a value that is not a duration, pointing at the line', () => {
    let caught: unknown;
    try {
      parseProjectConfig('sluice.yaml', 'name: shop\ntable_ttl: soon\n');
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(SluiceError);
    expect((caught as SluiceError).message).toContain(
      "table_ttl in sluice.yaml 'soon' is not a duration",
    );
    expect((caught as SluiceError).location?.line).toBe(2);
  });
});
