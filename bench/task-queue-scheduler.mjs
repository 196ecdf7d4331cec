// The Scheduler service under test, two ways:
// - in process: `startSchedulerService` from dist/ on a store this process opened, as
//   bench/auth.mjs does, so that a producer can enqueue through the service's own store and
//   wake its claims with the in-process signal;
// - a child process: `node bin/sluice.js scheduler --state URL --listen 127.0.0.1:0`, the
//   service alone in its process as in production, with its own store and pool; a producer in
//   this process reaches its claims only through PostgreSQL's LISTEN/NOTIFY.
// Both log JSON lines at info, as in production, to a file in bench/out/: one line per request,
// except for the task calls answered without error (claims, completions), which are at debug.
// TASK_QUEUE_CHILD_FLAGS adds Node flags to the child, such as `--cpu-prof --cpu-prof-dir=DIR`.
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startSchedulerService } from '../dist/scheduler/http/scheduler-service.js';
import { OUT, ringText, sleep, stateUrlOf } from './task-queue-fixtures.mjs';

const UNLIMITED = { capacity: 1_000_000, refillPerSec: 1_000_000 };
const START_TIMEOUT_MS = 30_000;

/** Starts the service in this process on `store`; `close` stops it and leaves the store open. */
export async function startInProcess(store, logName) {
  const logger = pino(
    { level: 'info' },
    pino.destination({ dest: join(OUT, logName), sync: false }),
  );
  const service = await startSchedulerService({
    store,
    listenHost: '127.0.0.1',
    listenPort: 0,
    logger,
    tokenRateLimit: UNLIMITED,
    failedAuthRateLimit: UNLIMITED,
  });
  return {
    url: service.url,
    close: async () => {
      await service.close();
      logger.flush();
    },
  };
}

/** Starts `sluice scheduler` as a child process on `location` (migrated beforehand). */
export async function startChild(location, logName) {
  const logPath = join(OUT, logName);
  const log = await open(logPath, 'w');
  const child = spawn(
    process.execPath,
    [
      ...(process.env.TASK_QUEUE_CHILD_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
      resolve('bin', 'sluice.js'),
      'scheduler',
      '--state',
      stateUrlOf(location),
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'info',
    ],
    {
      env: { ...process.env, SLUICE_STATE_KEYS: ringText, SLUICE_BACKUP_DIR: join(OUT, 'backups') },
      stdio: ['ignore', log.fd, 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolvePromise) => child.on('exit', resolvePromise));

  try {
    const url = await listeningUrl(logPath, exited, () => stderr);
    return {
      url,
      pid: child.pid,
      close: async () => {
        child.kill('SIGTERM');
        await exited;
        await log.close();
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await log.close();
    throw error;
  }
}

/** Waits for the child's `listening` log line and returns the URL it names. */
async function listeningUrl(logPath, exited, stderr) {
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const text = await readFile(logPath, 'utf8');
    for (const line of text.split('\n')) {
      if (line.includes('"listening"')) return JSON.parse(line).url;
    }
    if (hasExited) throw new Error(`sluice scheduler exited before listening: ${stderr()}`);
    await sleep(50);
  }
  throw new Error(`sluice scheduler did not listen within ${START_TIMEOUT_MS / 1000} s`);
}
