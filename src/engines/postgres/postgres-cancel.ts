import pg from 'pg';

/** How long a cancel request may take to connect before the connection is dropped instead. */
const CANCEL_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Cancels what the backend `pid` is running, with `pg_cancel_backend` from a short-lived
 * connection of its own (the pool may be full). Resolves once the server has signalled the
 * backend: true when it did, false when the request could not be made.
 */
export async function cancelBackend(config: pg.ClientConfig, pid: number): Promise<boolean> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: CANCEL_CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ signalled: boolean }>(
      'SELECT pg_cancel_backend($1) AS signalled',
      [pid],
    );
    return result.rows[0]?.signalled === true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server process id of a connection, as node-postgres records it at connect time. */
export function backendPid(client: pg.ClientBase): number | undefined {
  const pid = (client as { processID?: unknown }).processID;
  return typeof pid === 'number' ? pid : undefined;
}
