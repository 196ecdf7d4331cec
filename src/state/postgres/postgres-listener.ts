import type pg from 'pg';
import type { StateLocation } from '../state-types.js';
import type { NotificationHandlers, NotificationSubscription } from '../store-internals.js';
import { createStatePool } from './postgres-pool.js';

/**
 * LISTEN on a connection of its own, for wake-ups that cross processes (several Schedulers on
 * one database). When the connection breaks, it is opened again after a pause that doubles up to
 * a few seconds, and the subscriber is told, since notifications sent meanwhile are lost.
 */

type PostgresLocation = Extract<StateLocation, { backend: 'postgres' }>;

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

/** Starts listening; resolves once the first LISTEN has been acknowledged. */
export async function listenOnChannel(
  location: PostgresLocation,
  channel: string,
  handlers: NotificationHandlers,
): Promise<NotificationSubscription> {
  const pool = createStatePool(location, 1);
  let client: pg.PoolClient | undefined;
  let isClosed = false;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const connected = await pool.connect();
    connected.on('notification', (message) => {
      if (message.channel === channel) handlers.onMessage(message.payload ?? '');
    });
    connected.on('error', () => {
      connected.release(true);
      if (client === connected) client = undefined;
      scheduleReconnect();
    });
    await connected.query(`LISTEN "${channel}"`);
    client = connected;
    retryMs = FIRST_RETRY_MS;
  };

  const scheduleReconnect = (): void => {
    if (isClosed || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(handlers.onReconnect, () => {
        retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
        scheduleReconnect();
      });
    }, retryMs);
    retryTimer.unref();
  };

  try {
    await connect();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }

  return {
    close: async () => {
      isClosed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      client?.release(true);
      client = undefined;
      await pool.end().catch(() => undefined);
    },
  };
}
