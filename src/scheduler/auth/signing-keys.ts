import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import { SluiceError } from '../../core/errors.js';
import { type Logger, SILENT_LOGGER } from '../../core/logger.js';
import type { Jwks } from '../../protocol/oauth.js';
import { appendAuditEntry } from '../../state/audit-log.js';
import {
  deleteSigningKeysRetiredBefore,
  insertSigningKey,
  listSigningKeys,
  readPrivateSigningKey,
  retireSigningKeys,
  type StoredSigningKey,
} from '../../state/signing-key-store.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * The keys that sign access tokens: Ed25519 key pairs kept in the state (the private half
 * encrypted by the store), so every Scheduler replica on the same state signs and verifies with
 * the same set. The active key is the newest unretired one; it is replaced once it is older than
 * `rotateAfterMs`. A replaced key is retired and keeps verifying for `retainAfterRetireMs` (longer
 * than a token lives), then it is deleted. When two replicas rotate at the same moment both new
 * keys are stored and published, and tokens signed by either verify; that is harmless. Each may
 * even retire the other's key, leaving none active: the next `signingKey()` then finds no active
 * key and makes one, while the retired ones keep verifying for their retention.
 */

/** How often keys are rotated and re-read; durations in milliseconds. */
export type SigningKeyOptions = {
  /** Rotate the active key once it is this old. Default 30 days. */
  readonly rotateAfterMs?: number;
  /** How long a retired key keeps verifying. Default one hour: a token's lifetime and a margin. */
  readonly retainAfterRetireMs?: number;
  /** The least time between two reads of the store for an unknown kid. Default one second. */
  readonly refreshMinIntervalMs?: number;
  readonly clock?: () => Date;
  readonly logger?: Logger;
};

const ALGORITHM = 'EdDSA';
const DAY_MS = 24 * 3600 * 1000;

/**
 * How long the key set read from the store is used before it is read again. Another replica's
 * rotation retires this replica's active key; that key still verifies for `retainAfterRetireMs`,
 * so a minute's delay before switching (or before learning of the retirement) is harmless.
 */
const KEY_SET_MAX_AGE_MS = 60_000;

type KnownKey = { readonly stored: StoredSigningKey; readonly publicKey: CryptoKey };

/** Why a key was made, for the audit entry. */
type RotationReason = 'first key' | 'scheduled' | 'requested';

/** The signing keys of one Scheduler process, read from and written to the state store. */
export class SigningKeys {
  readonly #store: StateStore;
  readonly #rotateAfterMs: number;
  readonly #retainAfterRetireMs: number;
  readonly #refreshMinIntervalMs: number;
  readonly #clock: () => Date;
  readonly #logger: Logger;

  #known: readonly KnownKey[] = [];
  #loadedAtMs = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;
  #rotating: Promise<string> | undefined;
  #privateKey: { readonly kid: string; readonly key: CryptoKey } | undefined;

  private constructor(store: StateStore, options: SigningKeyOptions) {
    this.#store = store;
    this.#rotateAfterMs = positive('rotateAfterMs', options.rotateAfterMs ?? 30 * DAY_MS);
    this.#retainAfterRetireMs = positive(
      'retainAfterRetireMs',
      options.retainAfterRetireMs ?? 3600 * 1000,
    );
    this.#refreshMinIntervalMs = options.refreshMinIntervalMs ?? 1000;
    this.#clock = options.clock ?? (() => new Date());
    this.#logger = (options.logger ?? SILENT_LOGGER).child({ component: 'signing-keys' });
  }

  /** Reads the keys from the store, making the first one when there is none. */
  static async open(store: StateStore, options: SigningKeyOptions = {}): Promise<SigningKeys> {
    const keys = new SigningKeys(store, options);
    await keys.#reload();
    if (keys.#active() === undefined) await keys.#rotateOnce('scheduler', 'first key');
    return keys;
  }

  /** The key to sign with now; rotates first when the active key is older than rotateAfterMs. */
  async signingKey(): Promise<{ readonly kid: string; readonly key: CryptoKey }> {
    if (this.#nowMs() - this.#loadedAtMs >= KEY_SET_MAX_AGE_MS) await this.#reload();

    let active = this.#active();
    if (active === undefined || this.#isDue(active)) {
      await this.#reload();
      active = this.#active();
    }
    if (active === undefined || this.#isDue(active)) {
      await this.#rotateOnce('scheduler', 'scheduled');
      active = this.#active();
    }
    if (active === undefined) {
      throw new SluiceError('internal', 'No signing key is active after rotating the keys');
    }
    return this.#privateKeyOf(active.stored.kid);
  }

  /**
   * Makes a new active key now (audit 'signing_key.rotated', actor given); old keys keep
   * verifying until retainAfterRetireMs after retirement, then are deleted.
   */
  rotate(actor: string): Promise<string> {
    return this.#rotateOnce(actor, 'requested');
  }

  /**
   * The public key for a kid; an unknown kid refreshes from the store (at most once per
   * refreshMinIntervalMs), so a key made by another replica is found.
   */
  async publicKeyFor(kid: string): Promise<CryptoKey | undefined> {
    // Re-reading now and then also learns retirements and deletions made by other replicas.
    if (this.#nowMs() - this.#loadedAtMs >= KEY_SET_MAX_AGE_MS) await this.#reload();

    const known = this.#find(kid);
    if (known !== undefined) return this.#isUsable(known) ? known.publicKey : undefined;

    if (this.#nowMs() - this.#loadedAtMs < this.#refreshMinIntervalMs) return undefined;
    await this.#reload();
    const found = this.#find(kid);
    return found !== undefined && this.#isUsable(found) ? found.publicKey : undefined;
  }

  /** Public keys for /.well-known/jwks.json: kty, crv, x, kid, alg, use 'sig' only. */
  async jwks(): Promise<Jwks> {
    if (this.#nowMs() - this.#loadedAtMs >= KEY_SET_MAX_AGE_MS) await this.#reload();
    return { keys: this.#known.filter((known) => this.#isUsable(known)).map(publicMembersOf) };
  }

  #nowMs(): number {
    return this.#clock().getTime();
  }

  #active(): KnownKey | undefined {
    return this.#known.find((known) => known.stored.retiredAt === null);
  }

  #find(kid: string): KnownKey | undefined {
    return this.#known.find((known) => known.stored.kid === kid);
  }

  #isDue(key: KnownKey): boolean {
    return this.#nowMs() - Date.parse(key.stored.createdAt) >= this.#rotateAfterMs;
  }

  /** A retired key verifies until its retention ends, even before another pass deletes it. */
  #isUsable(key: KnownKey): boolean {
    const { retiredAt } = key.stored;
    return retiredAt === null || this.#nowMs() - Date.parse(retiredAt) < this.#retainAfterRetireMs;
  }

  /** Re-reads the key set; concurrent callers share one read. */
  #reload(): Promise<void> {
    this.#loading ??= this.#readKeys().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #readKeys(): Promise<void> {
    const stored = await listSigningKeys(this.#store);
    const known = await Promise.all(
      stored.map(async (key) => ({ stored: key, publicKey: await importPublic(key) })),
    );
    this.#known = known;
    this.#loadedAtMs = this.#nowMs();
  }

  /** Rotates the keys; concurrent callers in this process share one rotation. */
  #rotateOnce(actor: string, reason: RotationReason): Promise<string> {
    this.#rotating ??= this.#makeKey(actor, reason).finally(() => {
      this.#rotating = undefined;
    });
    return this.#rotating;
  }

  async #makeKey(actor: string, reason: RotationReason): Promise<string> {
    const now = this.#clock();
    const previousKids = this.#known
      .filter((known) => known.stored.retiredAt === null)
      .map((known) => known.stored.kid);

    const { kid, privateKey } = await this.#storeNewKey(now.toISOString());
    await retireSigningKeys(this.#store, kid, now.toISOString());
    const retainedSince = new Date(now.getTime() - this.#retainAfterRetireMs).toISOString();
    const deletedCount = await deleteSigningKeysRetiredBefore(this.#store, retainedSince);

    await appendAuditEntry(this.#store, {
      actor,
      action: 'signing_key.rotated',
      subject: kid,
      details: { algorithm: ALGORITHM, reason, retiredKids: previousKids, deletedCount },
    });
    this.#logger.info({ kid, reason, retiredCount: previousKids.length }, 'Signing key rotated');
    this.#privateKey = { kid, key: privateKey };

    // A read that started before the new key was stored would miss it, so wait for it first.
    await this.#loading?.catch(() => undefined);
    await this.#reload();
    return kid;
  }

  async #storeNewKey(createdAt: string): Promise<{ kid: string; privateKey: CryptoKey }> {
    const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);

    const privateJwk = await exportJWK(privateKey);
    await insertSigningKey(this.#store, {
      kid,
      algorithm: ALGORITHM,
      publicJwk,
      privateJwk,
      createdAt,
    });
    return { kid, privateKey };
  }

  async #privateKeyOf(kid: string): Promise<{ readonly kid: string; readonly key: CryptoKey }> {
    if (this.#privateKey?.kid === kid) return this.#privateKey;

    const jwk = await readPrivateSigningKey(this.#store, kid);
    const key = await importJWK(jwk as JWK, ALGORITHM);
    if (key instanceof Uint8Array || key.type !== 'private') {
      throw new SluiceError(
        'internal',
        `Signing key '${kid}' did not import as an asymmetric private key`,
      );
    }
    this.#privateKey = { kid, key };
    return this.#privateKey;
  }
}

async function importPublic(key: StoredSigningKey): Promise<CryptoKey> {
  const imported = await importJWK(key.publicJwk as JWK, key.algorithm);
  if (imported instanceof Uint8Array || imported.type !== 'public') {
    throw new SluiceError(
      'state_error',
      `Signing key '${key.kid}' in the state is not an asymmetric public key; ` +
        "the state may be damaged, so restore it from a backup with 'sluice state restore'",
    );
  }
  return imported;
}

function publicMembersOf(known: KnownKey): Jwks['keys'][number] {
  const { kty, crv, x } = known.stored.publicJwk;
  if (typeof kty !== 'string' || typeof crv !== 'string' || typeof x !== 'string') {
    throw new SluiceError(
      'state_error',
      `Signing key '${known.stored.kid}' in the state has no usable public key; ` +
        "the state may be damaged, so restore it from a backup with 'sluice state restore'",
    );
  }
  return { kty, crv, x, kid: known.stored.kid, alg: known.stored.algorithm, use: 'sig' };
}

function positive(name: string, valueMs: number): number {
  if (!(valueMs > 0)) {
    throw new SluiceError(
      'usage',
      `The signing key option ${name} must be positive; got ${valueMs}`,
    );
  }
  return valueMs;
}
