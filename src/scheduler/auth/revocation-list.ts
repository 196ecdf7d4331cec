import { SluiceError } from '../../core/errors.js';
import { type Logger, SILENT_LOGGER } from '../../core/logger.js';
import { listRevokedClientIds } from '../../state/oauth-client-store.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * The revoked OAuth clients, which every token verifier consults: an access token stays valid
 * until it expires, so revocation must be checked on each request. Revocations made in this
 * process apply at once (`markRevoked`); those made by other replicas are read from the store
 * every `refreshIntervalMs`. When the store cannot be read for `maxStaleMs`, the list fails
 * closed: `isRevoked` throws instead of answering from a list that may miss a revocation.
 */

/** How often the list is re-read and how stale it may get; durations in milliseconds. */
export type RevocationListOptions = {
  /** Default 2 seconds. */
  readonly refreshIntervalMs?: number;
  /** Default 30 seconds. */
  readonly maxStaleMs?: number;
  readonly clock?: () => Date;
  readonly logger?: Logger;
};

/** The set of revoked client ids, kept fresh from the state store. */
export class RevocationList {
  readonly #store: StateStore;
  readonly #maxStaleMs: number;
  readonly #clock: () => Date;
  readonly #logger: Logger;

  /** Revoked in this process; kept even if a read of the store does not show them yet. */
  readonly #markedHere = new Set<string>();
  #revoked: ReadonlySet<string> = new Set();
  #refreshedAtMs = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(store: StateStore, options: RevocationListOptions) {
    this.#store = store;
    this.#maxStaleMs = options.maxStaleMs ?? 30_000;
    this.#clock = options.clock ?? (() => new Date());
    this.#logger = (options.logger ?? SILENT_LOGGER).child({ component: 'revocation-list' });
  }

  /** Reads the list once (failing when it cannot), then refreshes it on a timer. */
  static async open(
    store: StateStore,
    options: RevocationListOptions = {},
  ): Promise<RevocationList> {
    const refreshIntervalMs = options.refreshIntervalMs ?? 2000;
    if (!(refreshIntervalMs > 0)) {
      throw new SluiceError(
        'usage',
        `The revocation list's refresh interval must be positive; got ${refreshIntervalMs} ms`,
      );
    }

    const list = new RevocationList(store, options);
    await list.refresh();
    list.#timer = setInterval(() => list.#refreshInBackground(), refreshIntervalMs);
    // The timer must not keep a process alive that has nothing else to do.
    list.#timer.unref();
    return list;
  }

  /** Whether the list was refreshed within maxStaleMs, so that it may answer. */
  isFresh(): boolean {
    return this.#clock().getTime() - this.#refreshedAtMs <= this.#maxStaleMs;
  }

  /**
   * Whether the client is revoked. Throws a retryable 'state_unreachable' error when the list
   * could not be refreshed for maxStaleMs, so that a lost store never lets a revoked client in.
   */
  isRevoked(clientId: string): boolean {
    if (!this.isFresh()) {
      const staleSec = Math.round((this.#clock().getTime() - this.#refreshedAtMs) / 1000);
      throw new SluiceError(
        'state_unreachable',
        `The list of revoked clients could not be read from the state store for ${staleSec} s, ` +
          'so no token is accepted; check that the state store is reachable',
        { retryable: true },
      );
    }
    return this.#markedHere.has(clientId) || this.#revoked.has(clientId);
  }

  /** Applies a revocation made in this process at once, before the next refresh. */
  markRevoked(clientId: string): void {
    this.#markedHere.add(clientId);
  }

  /** Re-reads the list from the store; concurrent callers share one read. Rejects on failure. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#read().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Stops the refresh timer. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<void> {
    // The time is taken before the read: the list is as fresh as the moment the query started.
    const startedAtMs = this.#clock().getTime();
    const ids = await listRevokedClientIds(this.#store);

    this.#revoked = new Set(ids);
    this.#refreshedAtMs = Math.max(this.#refreshedAtMs, startedAtMs);
  }

  #refreshInBackground(): void {
    this.refresh().catch((error: unknown) => {
      const code = error instanceof SluiceError ? error.code : 'unknown';
      // Driver errors may quote connection settings, so only the error's kind is logged.
      this.#logger.warn(
        { code, errorName: error instanceof Error ? error.name : typeof error },
        'Could not refresh the list of revoked clients; retrying',
      );
    });
  }
}
