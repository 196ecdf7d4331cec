import pg from 'pg';
import type { TestProject } from 'vitest/node';

/** The one variable through which tests find PostgreSQL; see the README. */
export const POSTGRES_URL_VARIABLE = 'SLUICE_TEST_POSTGRES_URL';
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** Why PostgreSQL suites are skipped; empty when the server answers. */
    postgresSkipReason: string;
  }
}

/**
 * Global setup: checks once whether PostgreSQL answers. Under CI=true an unreachable server fails
 * the whole run; elsewhere PostgreSQL suites are skipped and the reason is printed.
 */
export default async function setup(project: TestProject) {
  const url = process.env[POSTGRES_URL_VARIABLE] ?? DEFAULT_POSTGRES_URL;
  const reason = await probe(url);
  if (reason !== '' && process.env.CI === 'true') {
    throw new Error(
      `PostgreSQL is required under CI=true but ${reason}; start it or set ${POSTGRES_URL_VARIABLE}`,
    );
  }
  if (reason !== '') {
    console.warn(
      `\nSkipping the PostgreSQL suites: ${reason}. Set ${POSTGRES_URL_VARIABLE} ` +
        `(default ${DEFAULT_POSTGRES_URL}) to a reachable server to run them.\n`,
    );
  }
  project.provide('postgresUrl', url);
  project.provide('postgresSkipReason', reason);
}

async function probe(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return '';
  } catch (error) {
    const code = (error as { code?: string }).code;
    return `the server at ${redactUrl(url)} did not answer (${code ?? 'connection failed'})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
