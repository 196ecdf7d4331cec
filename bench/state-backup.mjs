// Benchmark: backing up and verifying a state store holding N MB of encrypted state, on SQLite and
// PostgreSQL, and reading + decrypting 10,000 rows of a payload column. The state is audit log
// entries whose details are ~10 KB of JSON, encrypted by the store's payload cipher, written in
// large transactions. Targets: backup and verify under 60 s each at 1 GB; 10,000 payloads read
// and decrypted under 100 ms, measured on the 10 KB entries and on 10,000 entries of ~1 KB added
// after the backup. Payloads are decrypted through the bulk read path (`decryptPayloads`).
// With --read-only, only the 10,000 entries of ~1 KB are written (through the audit log), and each
// read is timed side by side: decrypting one payload after another, the bulk path, the audit log
// reader, and `readPayloadRows` (binary COPY on PostgreSQL). Needs `npm run build` first.
// Usage: node bench/state-backup.mjs [megabytes] [postgres url]
//        node bench/state-backup.mjs --read-only [repeat] [postgres url]
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { appendAuditEntry, readAuditEntries } from '../dist/state/audit-log.js';
import { createBackup, verifyBackup } from '../dist/state/backup/backup.js';
import { openStateStore } from '../dist/state/open-state-store.js';
import { decryptPayloads } from '../dist/state/payload-decryption.js';
import { readPayloadRows } from '../dist/state/payload-rows.js';
import { newRowId } from '../dist/state/row-id.js';
import { internalsOf } from '../dist/state/store-internals.js';

const OUT = resolve('bench', 'out', 'state-backup');
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DETAILS_BYTES = 10 * 1024;
const SMALL_DETAILS_BYTES = 1024;
const ROWS_PER_INSERT = 200;
const ROWS_PER_TRANSACTION = 5_000;
const READ_ROWS = 10_000;
const READ_REPEAT = 5;
const PAUSE_BEFORE_READ_MS = 200;
/** The read of the bulk path (`id, details` by id) as a `readPayloadRows` query. */
const PAYLOAD_ROWS_QUERY = {
  table: 'sluice_audit_log',
  columns: { id: 'text' },
  idColumn: 'id',
  payloadColumn: 'details',
  orderBy: [{ column: 'id' }],
  limit: READ_ROWS,
};

const ring = (() => {
  const key = { id: 'bench', secret: randomBytes(32) };
  return { active: key, keys: new Map([[key.id, key]]) };
})();

/** Runs the benchmark on both backends with `megabytes` of state; one row of figures each. */
export async function benchStateBackup({ megabytes, postgresUrl = DEFAULT_POSTGRES_URL }) {
  const rows = [];
  rows.push(await benchBackend({ backend: 'sqlite', path: join(OUT, 'state.db') }, megabytes));
  const skipReason = await postgresSkipReason(postgresUrl);
  if (skipReason === '') {
    const schema = `sluice_bench_${randomBytes(4).toString('hex')}`;
    rows.push(await benchBackend({ backend: 'postgres', url: postgresUrl, schema }, megabytes));
  } else {
    rows.push({ backend: 'postgres', skipped: skipReason });
  }
  return rows;
}

async function benchBackend(location, megabytes) {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const store = await openStateStore({ location, keyRing: ring, shouldMigrate: true });
  try {
    const fill = await timed(() => fillStore(store, megabytes));
    const filledBytes = await stateBytes(store);
    const backup = await timed(() =>
      createBackup(store, { dir: join(OUT, 'backups'), reason: 'manual' }),
    );
    const verify = await timed(() => verifyBackup(backup.result.path, ring));
    const large = await timeReads(store, 'asc', Math.min(READ_ROWS, fill.result));
    await fillRows(store, READ_ROWS, SMALL_DETAILS_BYTES);
    const small = await timeReads(store, 'desc', READ_ROWS);
    return {
      backend: location.backend,
      'state (MB)': Math.round(filledBytes / 2 ** 20),
      rows: fill.result,
      'fill (s)': seconds(fill.ms),
      'backup (s)': seconds(backup.ms),
      'backup file (MB)': Math.round(backup.result.sizeBytes / 2 ** 20),
      'verify (s)': seconds(verify.ms),
      'read+decrypt 10 KB payloads (ms)': large.text,
      'read+decrypt 1 KB payloads (ms)': small.text,
    };
  } finally {
    await dropState(store);
    await store.close();
    await rm(OUT, { recursive: true, force: true });
  }
}

/** Writes audit entries of ~10 KB encrypted details until the state holds `megabytes`. */
function fillStore(store, megabytes) {
  return fillRows(store, Math.ceil((megabytes * 2 ** 20) / DETAILS_BYTES), DETAILS_BYTES);
}

/** Writes `total` audit entries with encrypted details of about `detailsBytes` each. */
async function fillRows(store, total, detailsBytes) {
  const filler = 'x'.repeat(detailsBytes - 100);
  const occurredAt = new Date().toISOString();
  for (let done = 0; done < total; done += ROWS_PER_TRANSACTION) {
    const count = Math.min(ROWS_PER_TRANSACTION, total - done);
    await store.db.transaction().execute(async (trx) => {
      for (let offset = 0; offset < count; offset += ROWS_PER_INSERT) {
        const values = [];
        for (let index = offset; index < Math.min(count, offset + ROWS_PER_INSERT); index++) {
          const id = newRowId();
          const details = JSON.stringify({ n: done + index, filler });
          values.push({
            id,
            occurred_at: occurredAt,
            actor: 'bench',
            action: 'fill',
            subject: `row ${done + index}`,
            details: store.cipher.encrypt(details, {
              table: 'sluice_audit_log',
              column: 'details',
              rowId: id,
            }),
          });
        }
        await trx.insertInto('sluice_audit_log').values(values).execute();
      }
    });
  }
  return total;
}

/**
 * Appends `total` audit entries of about `detailsBytes` through the audit log itself, so that the
 * audit log reader finds them as it would in service (numbered and chained).
 */
async function appendEntries(store, total, detailsBytes) {
  const filler = 'x'.repeat(detailsBytes - 150);
  for (let index = 0; index < total; index++) {
    const input = { actor: 'bench', action: 'fill', subject: `row ${index}` };
    await appendAuditEntry(store, { ...input, details: { n: index, filler } });
  }
}

/** Medians of reading `count` payloads (first or last by id) and decrypting each. */
async function timeReads(store, order, count) {
  const totals = [];
  const decrypts = [];
  for (let index = 0; index < READ_REPEAT; index++) {
    const { ms, result } = await timed(() => readPayloads(store, order, count));
    totals.push(ms);
    decrypts.push(result);
  }
  const total = Math.round(median(totals));
  return { text: `${count} rows: ${total} (decrypt ${Math.round(median(decrypts))})` };
}

/** Reads `count` payloads and decrypts them through the bulk path; returns decrypt ms. */
async function readPayloads(store, order, count) {
  const rows = await selectPayloads(store, order, count);
  const started = performance.now();
  await decryptPayloads(store, rows.map(payloadOf));
  return performance.now() - started;
}

/** Runs the read-only comparison on both backends; one row of medians each. */
export async function benchPayloadReads({
  repeat = READ_REPEAT,
  postgresUrl = DEFAULT_POSTGRES_URL,
}) {
  const rows = [];
  rows.push(await compareBackendReads({ backend: 'sqlite', path: join(OUT, 'state.db') }, repeat));
  const skipReason = await postgresSkipReason(postgresUrl);
  if (skipReason === '') {
    const schema = `sluice_bench_${randomBytes(4).toString('hex')}`;
    rows.push(await compareBackendReads({ backend: 'postgres', url: postgresUrl, schema }, repeat));
  } else {
    rows.push({ backend: 'postgres', skipped: skipReason });
  }
  return rows;
}

async function compareBackendReads(location, repeat) {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const store = await openStateStore({ location, keyRing: ring, shouldMigrate: true });
  try {
    await appendEntries(store, READ_ROWS, SMALL_DETAILS_BYTES);
    return { backend: location.backend, ...(await compareReads(store, repeat)) };
  } finally {
    await dropState(store);
    await store.close();
    await rm(OUT, { recursive: true, force: true });
  }
}

/**
 * Medians of each way of reading the 10,000 payloads. Every round runs each way once, in a new
 * random order, and each read starts after a short pause, as a read arriving at an idle service
 * would: back to back, each read would also pay for the garbage collection of the one before,
 * which is then always the same one. The first bulk read, while the workers start, is timed on
 * its own.
 */
async function compareReads(store, repeat) {
  const ways = {
    'query only (ms)': () => selectPayloads(store, 'asc', READ_ROWS),
    ...(store.backend === 'postgres' ? { 'COPY only (ms)': () => copyPayloads(store) } : {}),
    'one by one (ms)': () => readOneByOne(store),
    'bulk (ms)': () => readPayloads(store, 'asc', READ_ROWS),
    'audit log reader (ms)': () => readAllEntries(store),
    'payload rows (ms)': () => readPayloadRowsOnly(store),
  };
  const first = await timed(() => readPayloads(store, 'asc', READ_ROWS));
  const times = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
  for (let round = 0; round < repeat; round++) {
    for (const name of shuffled(Object.keys(ways))) {
      await new Promise((resolve) => setTimeout(resolve, PAUSE_BEFORE_READ_MS));
      times[name].push((await timed(ways[name])).ms);
    }
  }

  const medians = Object.fromEntries(
    Object.entries(times).map(([name, values]) => [name, Math.round(median(values))]),
  );
  return { ...medians, 'first bulk read (ms)': Math.round(first.ms), runs: repeat };
}

function shuffled(values) {
  const copy = [...values];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/** The query of `readPayloadRows` on PostgreSQL alone: binary COPY, rows parsed, no decryption. */
async function copyPayloads(store) {
  const batches = internalsOf(store).readPayloadRowBatches(PAYLOAD_ROWS_QUERY);
  let count = 0;
  for await (const batch of batches) count += batch.length;
  if (count !== READ_ROWS) throw new Error(`read ${count} rows, not ${READ_ROWS}`);
}

/** The same read as the bulk path, through `readPayloadRows` (binary COPY on PostgreSQL). */
async function readPayloadRowsOnly(store) {
  const rows = await readPayloadRows(store, PAYLOAD_ROWS_QUERY);
  if (rows.length !== READ_ROWS) throw new Error(`read ${rows.length} rows, not ${READ_ROWS}`);
  return rows;
}

/** The audit log reader end to end; checks that it read every entry. */
async function readAllEntries(store) {
  const entries = await readAuditEntries(store, { limit: READ_ROWS });
  if (entries.length !== READ_ROWS) throw new Error(`read ${entries.length} entries`);
  return entries;
}

/** The read as it was before the bulk path: one query, then each payload decrypted in turn. */
async function readOneByOne(store) {
  const rows = await selectPayloads(store, 'asc', READ_ROWS);
  return rows.map((row) => {
    const payload = payloadOf(row);
    return store.cipher.decrypt(payload.ciphertext, payload.address);
  });
}

async function selectPayloads(store, order, count) {
  const rows = await store.db
    .selectFrom('sluice_audit_log')
    .select(['id', 'details'])
    .orderBy('id', order)
    .limit(count)
    .execute();
  if (rows.length !== count) throw new Error(`read ${rows.length} rows, not ${count}`);
  return rows;
}

function payloadOf(row) {
  return {
    ciphertext: row.details,
    address: { table: 'sluice_audit_log', column: 'details', rowId: row.id },
  };
}

async function stateBytes(store) {
  if (store.location.backend === 'sqlite') return (await stat(store.location.path)).size;
  const pool = new pg.Pool({ connectionString: store.location.url, max: 1 });
  try {
    const result = await pool.query(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [store.location.schema],
    );
    return Number(result.rows[0].bytes);
  } finally {
    await pool.end();
  }
}

async function dropState(store) {
  if (store.location.backend !== 'postgres') return;
  const pool = new pg.Pool({ connectionString: store.location.url, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${store.location.schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}

async function postgresSkipReason(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return '';
  } catch (error) {
    return `PostgreSQL did not answer (${error.code ?? 'connection failed'})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function timed(work) {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

function seconds(ms) {
  return Number((ms / 1000).toFixed(1));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--read-only') {
    const repeat = Number(process.argv[3] ?? 7);
    console.table(await benchPayloadReads({ repeat, postgresUrl: process.argv[4] }));
  } else {
    const megabytes = Number(process.argv[2] ?? 1024);
    console.table(await benchStateBackup({ megabytes, postgresUrl: process.argv[3] }));
  }
}
