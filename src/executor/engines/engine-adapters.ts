import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { createEngineAdapter, type EngineConnection } from '../../engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';

/**
 * The engines an Executor runs tasks on: one adapter per gateway, opened when a task first needs
 * it and kept for the life of the process (a PostgreSQL adapter is a connection pool; a DuckDB
 * adapter one database instance shared by every slot). The connection settings come from the
 * caller's `connect`, which resolves the gateway's credentials where the Executor runs; they stay
 * in memory. A credential rotated after an adapter opened is used only by adapters opened later:
 * a gateway whose password changes needs the Executor restarted, or its pool to be reopened,
 * which this class does not do yet.
 */

/** Resolves a gateway name to the connection its adapter is opened with. */
export type ConnectGateway = (gateway: string) => Promise<EngineConnection>;

/** Adapters by gateway, opened on first use. */
export class EngineAdapters {
  readonly #connect: ConnectGateway;
  readonly #logger: Logger;
  readonly #opening = new Map<string, Promise<EngineAdapter>>();
  #isClosed = false;

  constructor(connect: ConnectGateway, logger: Logger) {
    this.#connect = connect;
    this.#logger = logger;
  }

  /** The adapter of `gateway`, opened now if no task used it yet. */
  adapterOf(gateway: string): Promise<EngineAdapter> {
    if (this.#isClosed) {
      return Promise.reject(new SluiceError('engine_unreachable', 'The Executor is stopping'));
    }
    const known = this.#opening.get(gateway);
    if (known !== undefined) return known;

    const opening = this.#open(gateway);
    this.#opening.set(gateway, opening);
    // A failed open is tried again by the next task, not remembered.
    opening.catch(() => this.#opening.delete(gateway));
    return opening;
  }

  /** Closes every adapter opened; later calls to `adapterOf` fail. */
  async close(): Promise<void> {
    this.#isClosed = true;
    const opened = await Promise.allSettled(this.#opening.values());
    this.#opening.clear();
    for (const result of opened) {
      if (result.status === 'fulfilled') await result.value.close();
    }
  }

  async #open(gateway: string): Promise<EngineAdapter> {
    const connection = await this.#connect(gateway);
    const adapter = await createEngineAdapter(connection);
    this.#logger.info({ gateway, engine: connection.type }, 'engine connected');
    return adapter;
  }
}
