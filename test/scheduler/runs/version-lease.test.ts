import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Logger, SILENT_LOGGER } from '../../../src/core/logger.js';
import {
  acquireLease,
  type HeldLease,
  type LeaseSettings,
  leaseOwnerOf,
  versionLeaseKey,
} from '../../../src/scheduler/runs/version-lease.js';
import {
  type LeaseHolder,
  readLease,
  releaseLease,
  tryAcquireLease,
} from '../../../src/state/leases.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const KEY = versionLeaseKey('shop.orders/aaaaaaaaaaaa');
const OTHER_HOST_OWNER = `not-${hostname()}/4242/run-other`;
/** How long `vi.waitFor` keeps checking, generous for a loaded machine. */
const WAIT = { timeout: 10_000, interval: 20 };
const settings: LeaseSettings = { owner: leaseOwnerOf('run-1'), ttlMs: 60_000, pollMs: 10 };

/** The pid of a child process that has exited, so that no process has it (barring reuse). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  await once(child, 'exit');
  if (pid === undefined) throw new Error('the child process did not start');
  return pid;
}

/** A logger that keeps the messages of its warnings. */
function recordingLogger(warnings: string[]): Logger {
  return { ...SILENT_LOGGER, warn: (_fields, message) => warnings.push(message) };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`version leases on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;
    const held: HeldLease[] = [];

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      return store;
    }

    /** Takes the test key for `owner` for a minute. */
    async function holdFor(store: StateStore, owner: string): Promise<void> {
      const request = { key: KEY, owner, ttlMs: 60_000, nowMs: Date.now() };
      expect(await tryAcquireLease(store, request)).toBe(true);
    }

    async function acquire(
      store: StateStore,
      options: { signal?: AbortSignal; onWait?: (holder: LeaseHolder) => void; logger?: Logger },
      leaseSettings: LeaseSettings = settings,
    ): Promise<HeldLease> {
      const lease = await acquireLease(store, KEY, leaseSettings, {
        signal: options.signal ?? new AbortController().signal,
        logger: options.logger ?? SILENT_LOGGER,
        ...(options.onWait === undefined ? {} : { onWait: options.onWait }),
      });
      held.push(lease);
      return lease;
    }

    afterEach(async () => {
      for (const lease of held.splice(0)) await lease.release();
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('takes a free lease at once and gives it up on release', async () => {
      const store = await openFresh();
      const onWait = vi.fn();

      const lease = await acquire(store, { onWait });

      expect(lease.key).toBe(KEY);
      expect((await readLease(store, KEY))?.owner).toBe(settings.owner);
      expect(onWait).not.toHaveBeenCalled();
      await lease.release();
      expect(await readLease(store, KEY)).toBeUndefined();
    });

    it('waits while another owner holds the lease, says so once, and takes it after release', async () => {
      const store = await openFresh();
      await holdFor(store, OTHER_HOST_OWNER);
      const holders: LeaseHolder[] = [];
      let hasAcquired = false;

      const acquiring = acquire(store, { onWait: (holder) => holders.push(holder) }).then(
        (lease) => {
          hasAcquired = true;
          return lease;
        },
      );
      await vi.waitFor(() => expect(holders).toHaveLength(1), WAIT);
      await sleep(settings.pollMs * 10);
      expect(hasAcquired).toBe(false);
      await releaseLease(store, KEY, OTHER_HOST_OWNER);

      await acquiring;
      expect(holders).toEqual([{ owner: OTHER_HOST_OWNER, expiresAtMs: expect.any(Number) }]);
      expect((await readLease(store, KEY))?.owner).toBe(settings.owner);
    });

    it('takes at once a lease whose owner names a process of this host that has exited', async () => {
      const store = await openFresh();
      const deadOwner = `${hostname()}/${await deadPid()}/run-dead`;
      await holdFor(store, deadOwner);
      const onWait = vi.fn();

      await acquire(store, { onWait });

      expect(onWait).not.toHaveBeenCalled();
      expect((await readLease(store, KEY))?.owner).toBe(settings.owner);
    });

    it('waits for a lease whose owner names a live process of this host', async () => {
      const store = await openFresh();
      const liveOwner = `${hostname()}/${process.ppid}/run-live`;
      await holdFor(store, liveOwner);
      const controller = new AbortController();
      const holders: LeaseHolder[] = [];

      const acquiring = acquire(store, {
        signal: controller.signal,
        onWait: (holder) => {
          holders.push(holder);
          controller.abort(new Error('stopped by the test'));
        },
      });

      await expect(acquiring).rejects.toThrow('stopped by the test');
      expect(holders.map((holder) => holder.owner)).toEqual([liveOwner]);
      expect((await readLease(store, KEY))?.owner).toBe(liveOwner);
    });

    it('stops waiting with the signal reason when the signal aborts', async () => {
      const store = await openFresh();
      await holdFor(store, OTHER_HOST_OWNER);
      const controller = new AbortController();
      const reason = new Error('the run was cancelled');

      let onWait = () => {};
      const waiting = new Promise<void>((resolve) => {
        onWait = resolve;
      });

      const acquiring = acquire(store, { signal: controller.signal, onWait: () => onWait() });
      await waiting;
      controller.abort(reason);

      await expect(acquiring).rejects.toBe(reason);
      expect((await readLease(store, KEY))?.owner).toBe(OTHER_HOST_OWNER);
    });

    it('tries nothing when the signal has already aborted', async () => {
      const store = await openFresh();
      const reason = new Error('the run was cancelled');

      await expect(acquire(store, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(await readLease(store, KEY)).toBeUndefined();
    });

    it('keeps renewing a held lease before it expires', async () => {
      const store = await openFresh();
      const short = { ...settings, ttlMs: 300 };

      await acquire(store, {}, short);
      const first = await readLease(store, KEY);

      await vi.waitFor(async () => {
        const now = await readLease(store, KEY);
        expect(now?.expiresAtMs).toBeGreaterThan(first?.expiresAtMs ?? Number.POSITIVE_INFINITY);
      }, WAIT);
      expect((await readLease(store, KEY))?.owner).toBe(settings.owner);
    });

    it('warns when another owner took the lease it was renewing', async () => {
      const store = await openFresh();
      const warnings: string[] = [];
      await acquire(store, { logger: recordingLogger(warnings) }, { ...settings, ttlMs: 300 });

      const takeover = { key: KEY, owner: OTHER_HOST_OWNER, ttlMs: 60_000, nowMs: Date.now() };
      expect(await tryAcquireLease(store, takeover, settings.owner)).toBe(true);

      await vi.waitFor(
        () => expect(warnings).toContain('lost a lease: another process took it after it expired'),
        WAIT,
      );
      expect((await readLease(store, KEY))?.owner).toBe(OTHER_HOST_OWNER);
    });
  });
}
