import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import {
  type LeaderElection,
  startLeaderElection,
} from '../../../src/scheduler/leader/leader-election.js';
import { LEADER_KEY } from '../../../src/scheduler/leader/leadership-claim.js';
import { tryAcquireLease } from '../../../src/state/leases.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';

/**
 * Leader election between Schedulers on one state store, each with a store object (and so
 * connections) of its own: PostgreSQL's advisory lock and SQLite's lease.
 */

const ring = testKeyRing(testStateKey('k1'));
const RETRY_MS = 50;
/** How long a change may take to be seen on a busy machine. */
const WAIT = { timeout: 10_000, interval: 20 };

/** An election with duties that record when they start and stop, and its log lines. */
type Candidate = {
  readonly election: LeaderElection;
  readonly events: string[];
  readonly logs: Record<string, unknown>[];
};

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`leader election on ${backend.name}`, () => {
    let location: TestStateLocation | undefined;
    const stores: StateStore[] = [];
    const elections: LeaderElection[] = [];

    afterEach(async () => {
      for (const election of elections.splice(0)) await election.stop();
      for (const store of stores.splice(0)) await store.close();
      await location?.cleanup();
      location = undefined;
    });

    async function openStore(): Promise<StateStore> {
      location ??= await backend.create();
      const store = await openStateStore({
        location: location.location,
        keyRing: ring,
        shouldMigrate: true,
      });
      stores.push(store);
      return store;
    }

    async function candidate(instanceId: string, store?: StateStore): Promise<Candidate> {
      const events: string[] = [];
      const logs: Record<string, unknown>[] = [];
      const logger = pino(
        { level: 'info' },
        { write: (line: string) => logs.push(JSON.parse(line)) },
      );
      const election = startLeaderElection({
        store: store ?? (await openStore()),
        logger,
        instanceId,
        retryMs: RETRY_MS,
        onElected: async () => {
          events.push('started');
          return { stop: async () => void events.push('stopped') };
        },
      });
      elections.push(election);
      return { election, events, logs };
    }

    it('lets exactly one of two Schedulers lead, and the other take over when it stops', async () => {
      const first = await candidate('first');
      await vi.waitFor(() => expect(first.election.isLeader()).toBe(true), WAIT);
      const second = await candidate('second');
      // Several retries of the second Scheduler, none of which may win.
      await sleep(RETRY_MS * 6);
      expect(second.election.isLeader()).toBe(false);
      expect(second.events).toEqual([]);

      await first.election.stop();

      expect(first.election.isLeader()).toBe(false);
      expect(first.events).toEqual(['started', 'stopped']);
      await vi.waitFor(() => expect(second.election.isLeader()).toBe(true), WAIT);
      expect(second.events).toEqual(['started']);
      const messages = first.logs.map((line) => [line.level, line.msg, line.component]);
      expect(messages).toEqual([
        [30, 'this Scheduler leads', 'leader'],
        [30, 'leadership given up', 'leader'],
        [30, 'leader election stopped', 'leader'],
      ]);
    });

    it('gives the leadership up when its duties cannot start, and tries again', async () => {
      const store = await openStore();
      let attempts = 0;
      const election = startLeaderElection({
        store,
        logger: pino({ level: 'silent' }),
        instanceId: 'unlucky',
        retryMs: RETRY_MS,
        onElected: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error('the duties failed to start');
          return { stop: async () => undefined };
        },
      });
      elections.push(election);

      await vi.waitFor(() => expect(election.isLeader()).toBe(true), WAIT);
      expect(attempts).toBe(2);
    });

    // SQLite leads by a lease; PostgreSQL's advisory lock ends with its holder's session.
    if (backend.name === 'sqlite') {
      it('waits for the lease of a Scheduler that died to expire, then leads', async () => {
        const store = await openStore();
        const ttlMs = 2_000;
        const request = { key: LEADER_KEY, owner: 'dead', ttlMs, nowMs: Date.now() };
        expect(await tryAcquireLease(store, request)).toBe(true);

        const waiting = await candidate('waiting', store);
        await sleep(RETRY_MS * 3);
        expect(waiting.election.isLeader()).toBe(false);

        await vi.waitFor(() => expect(waiting.election.isLeader()).toBe(true), WAIT);
      });
    }

    if (backend.name === 'postgres') {
      it('loses the leadership at once when its connection breaks, and another takes over', async () => {
        const first = await candidate('first');
        await vi.waitFor(() => expect(first.election.isLeader()).toBe(true), WAIT);
        const second = await candidate('second');

        await terminateLockSessions();

        await vi.waitFor(() => expect(first.events).toEqual(['started', 'stopped']), WAIT);
        expect(first.logs.map((line) => line.msg)).toContain('leadership lost');
        // The first keeps trying as well and may win the lock back; stopped, it leaves it free.
        await first.election.stop();
        await vi.waitFor(() => expect(second.election.isLeader()).toBe(true), WAIT);
        expect(first.election.isLeader()).toBe(false);
      });
    }
  });
}

/** Ends the database sessions that hold Sluice's named advisory locks, as a network fault would. */
async function terminateLockSessions(): Promise<void> {
  const client = new pg.Client({ connectionString: inject('postgresUrl') });
  await client.connect();
  try {
    const ended = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks
       WHERE locktype = 'advisory' AND classid = $1 AND granted`,
      [0x51_c3_00_02],
    );
    expect(ended.rowCount).toBeGreaterThan(0);
  } finally {
    await client.end();
  }
}
