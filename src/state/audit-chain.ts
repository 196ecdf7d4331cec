import { SluiceError } from '../core/errors.js';
import {
  AUDIT_LOG_TABLE,
  type AuditRow,
  auditDetailsAddress,
  auditEntryHash,
  decodeAuditDetails,
  isChainedRow,
  readAuditChainStart,
  readAuditRows,
} from './audit-log.js';
import { decryptPayloadTexts } from './payload-decryption.js';
import type { StateStore } from './state-store.js';

/**
 * Checking the audit log's hash chain (see audit-log.ts): every entry is numbered from 1 without
 * gaps, every chained entry's hash matches its fields and decrypted details, and names the hash
 * of the entry before it.
 */

/** What a check of the chain found. */
export type AuditChainReport = {
  /** Whether no problem was found. */
  readonly intact: boolean;
  /** Entries checked, up to the first problem. */
  readonly entries: number;
  /** Entries from before the chain (schema version 5), which the check cannot vouch for. */
  readonly unchained: number;
  /** The last entry checked; compare with a recorded head to see whether the tail was cut. */
  readonly headSeq: number | null;
  readonly headHash: string | null;
  /** The first problem, by the sequence number where it was found. */
  readonly problem?: { readonly seq: number; readonly reason: string };
};

const PAGE_ROWS = 1_000;

type Walk = {
  expectedSeq: number;
  prevHash: string | null;
  entries: number;
  unchained: number;
  headSeq: number | null;
  headHash: string | null;
};

type Problem = NonNullable<AuditChainReport['problem']>;

/**
 * Walks the whole log in pages and reports the first entry that was changed, removed or moved.
 * A chain alone cannot show that entries were removed from its end: the shortened log is a
 * valid chain. The report therefore names the head (last sequence number and hash), which an
 * operator compares with a head recorded outside the store, such as one written to a service log.
 * Entries from before the chain (see migrations/005-auth.ts) are counted as `unchained` and only
 * their numbering is checked.
 */
export async function verifyAuditChain(store: StateStore): Promise<AuditChainReport> {
  const chainStart = await readAuditChainStart(store);
  const walk: Walk = {
    expectedSeq: 1,
    prevHash: null,
    entries: 0,
    unchained: 0,
    headSeq: null,
    headHash: null,
  };

  for (;;) {
    const rows = await readAuditRows(store, { limit: PAGE_ROWS, after: walk.expectedSeq - 1 });
    const plaintexts = await decryptPage(store, rows);
    for (const [index, row] of rows.entries()) {
      const problem = checkRow(walk, row, plaintexts[index], chainStart);
      if (problem !== undefined) return reportOf(walk, problem);
    }
    if (rows.length < PAGE_ROWS) break;
  }

  const unnumbered = await countUnnumbered(store);
  if (unnumbered > 0) {
    return reportOf(walk, {
      seq: walk.expectedSeq,
      reason: `${unnumbered} entries have no sequence number: they were inserted by hand`,
    });
  }
  return reportOf(walk);
}

/** Checks one row against the walk so far; advances the walk when it passes. */
function checkRow(
  walk: Walk,
  row: AuditRow,
  plaintext: string | undefined,
  chainStart: number,
): Problem | undefined {
  const seq = walk.expectedSeq;
  if (row.seq !== seq) return { seq, reason: `entry ${seq} is missing` };

  if (isChainedRow(row, chainStart)) {
    const reason = chainProblem(walk, row, plaintext);
    if (reason !== undefined) return { seq, reason };
  } else {
    walk.unchained += 1;
  }

  walk.expectedSeq = seq + 1;
  walk.prevHash = row.hash;
  walk.entries += 1;
  walk.headSeq = row.seq;
  walk.headHash = row.hash;
  return undefined;
}

function chainProblem(walk: Walk, row: AuditRow, plaintext: string | undefined) {
  const seq = row.seq;
  if (row.hash === null) return `entry ${seq} was changed (its hash was removed)`;
  if (plaintext === undefined) {
    return `entry ${seq} was changed (its details do not decrypt at its place)`;
  }

  const decoded = decodeAuditDetails(plaintext, true);
  if (decoded === undefined || decoded.salt === null) {
    return `entry ${seq} was changed (its details are not in the form Sluice writes)`;
  }
  const expected = auditEntryHash({ ...row, salt: decoded.salt, details: decoded.details });
  if (expected !== row.hash) {
    return `entry ${seq} was changed (its hash does not match its contents)`;
  }
  if (row.prevHash !== walk.prevHash) {
    return (
      `entry ${seq} does not follow entry ${seq - 1} (the hash it names for it differs): ` +
      'an entry before it was removed or replaced'
    );
  }
  return undefined;
}

/**
 * Decrypts a page in bulk; when a payload does not decrypt, decrypts the page row by row so that
 * the check can name the entry (undefined for each that fails).
 */
async function decryptPage(
  store: StateStore,
  rows: readonly AuditRow[],
): Promise<(string | undefined)[]> {
  const payloads = rows.map((row) => ({
    ciphertext: row.ciphertext,
    address: auditDetailsAddress(row.id),
  }));
  try {
    return await decryptPayloadTexts(store, payloads);
  } catch (error) {
    if (!(error instanceof SluiceError) || error.code !== 'payload_undecryptable') throw error;
  }

  return payloads.map((payload) => {
    try {
      return store.cipher.decryptText(payload.ciphertext, payload.address);
    } catch {
      return undefined;
    }
  });
}

async function countUnnumbered(store: StateStore): Promise<number> {
  const row = await store.db
    .selectFrom(AUDIT_LOG_TABLE)
    .select((select) => select.fn.countAll().as('rows'))
    .where('seq', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.rows);
}

function reportOf(walk: Walk, problem?: Problem): AuditChainReport {
  const report = {
    intact: problem === undefined,
    entries: walk.entries,
    unchained: walk.unchained,
    headSeq: walk.headSeq,
    headHash: walk.headHash,
  };
  return problem === undefined ? report : { ...report, problem };
}
