import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import {
  DEFAULT_STATE_SCHEMA,
  defaultStateLocation,
  describeLocation,
  parseStateUrl,
} from '../../src/state/state-location.js';
import { testKeyRing, testStateKey } from '../helpers/state-backends.js';

function parseError(url: string): SluiceError {
  try {
    parseStateUrl(url, '/project');
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error(`expected '${url}' to be refused`);
}

describe('parseStateUrl', () => {
  it('reads an absolute SQLite path after three slashes', () => {
    expect(parseStateUrl('sqlite:///var/lib/sluice/state.db', '/project')).toEqual({
      backend: 'sqlite',
      path: '/var/lib/sluice/state.db',
    });
  });

  it('resolves a SQLite path after two slashes against the project folder', () => {
    expect(parseStateUrl('sqlite://.sluice/state.db', '/project')).toEqual({
      backend: 'sqlite',
      path: '/project/.sluice/state.db',
    });
    expect(parseStateUrl('sqlite://../shared/my%20state.db', '/work/project')).toEqual({
      backend: 'sqlite',
      path: '/work/shared/my state.db',
    });
  });

  it('refuses SQLite URLs with parameters, so a key is never given in a URI', () => {
    const error = parseError('sqlite:///tmp/state.db?key=secret');
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('takes no parameters');
    expect(error.message).not.toContain('secret');
  });

  it('refuses SQLite URLs that name no file', () => {
    for (const url of ['sqlite://', 'sqlite:///', 'sqlite:///tmp/', 'sqlite://:memory:']) {
      expect(parseError(url).message).toContain('names no file');
    }
  });

  it('reads PostgreSQL URLs with the default schema or the one given', () => {
    expect(parseStateUrl('postgres://sluice@db.internal:5432/state', '/project')).toEqual({
      backend: 'postgres',
      url: 'postgres://sluice@db.internal:5432/state',
      schema: DEFAULT_STATE_SCHEMA,
    });
    expect(
      parseStateUrl('postgresql://u:p@db/state?sslmode=require&schema=team_a', '/project'),
    ).toEqual({
      backend: 'postgres',
      url: 'postgresql://u:p@db/state?sslmode=require',
      schema: 'team_a',
    });
  });

  it('refuses a schema that is not a plain lower-case name, without showing the password', () => {
    const error = parseError('postgres://admin:hunter2@db/state?schema=Bad-Name');
    expect(error.message).toContain("The state schema 'Bad-Name'");
    expect(error.message).toContain("'postgres://admin@db/state'");
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses unknown schemes and unparsable URLs without repeating them', () => {
    expect(parseError('mysql://root:hunter2@db/state').message).toContain(
      "has the unknown scheme 'mysql:'",
    );
    expect(parseError('state.db').message).toContain('has no scheme');
    const broken = parseError('postgres://root:hunter2@db:notaport/state');
    expect(broken.message).toContain('is not a valid URL');
    expect(broken.message).not.toContain('hunter2');
  });
});

describe('defaultStateLocation and describeLocation', () => {
  it("places the default state in the project's .sluice folder", () => {
    expect(defaultStateLocation('/work/shop')).toEqual({
      backend: 'sqlite',
      path: '/work/shop/.sluice/state.db',
    });
  });

  it('describes a PostgreSQL location without its password or parameters', () => {
    const location = parseStateUrl(
      'postgres://admin:hunter2@db:5433/state?password=other&schema=s1',
      '/project',
    );
    expect(describeLocation(location)).toBe("'postgres://admin@db:5433/state' (schema 's1')");
  });
});

describe('opening a PostgreSQL store that cannot be reached', () => {
  it('reports the location without the password', async () => {
    const location = parseStateUrl('postgres://admin:hunter2@127.0.0.1:1/state', '/project');
    const error = await openStateStore({
      location,
      keyRing: testKeyRing(testStateKey('k1')),
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('state_unreachable');
    expect((error as SluiceError).message).toContain(
      "Cannot use the PostgreSQL state database 'postgres://admin@127.0.0.1:1/state'",
    );
    expect((error as SluiceError).message).toContain('the connection was refused');
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(String((error as SluiceError).cause)).not.toContain('hunter2');
  });
});
