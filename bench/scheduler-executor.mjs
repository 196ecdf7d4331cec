// A Scheduler service and an Executor on loopback, for benchmarks that run the same work in
// process and through them:
// - the Scheduler in this process (`startSchedulerService` from dist/), over a fresh encrypted
//   SQLite store under the given folder, logging JSON lines at info to a file as in production,
//   with an admin client (whose token plans and applies) and an Executor client holding the
//   `executor:run` and `executor:apply` roles;
// - the Executor as `node bin/sluice.js --project DIR executor` in a child process, with
//   SLUICE_URL and its client's credentials in its environment, logging to a file. It opens the
//   project's gateway itself and keeps it open until it stops: a DuckDB file admits one process,
//   so the caller closes its own handle on the file before starting it and stops it before
//   opening the file again.
// Plans are made and applied through the API as `sluice plan --auto-apply` does with SLUICE_URL
// set: POST /v1/environments/{env}/plans with the project's snapshots, POST .../apply, then the
// run's events followed by long polls until it ends.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { projectVersions } from '../dist/cli/project-run-setup.js';
import { SILENT_LOGGER } from '../dist/core/logger.js';
import { loadProject } from '../dist/project/project-loader.js';
import { bootstrapAdminClient, createClient } from '../dist/scheduler/auth/client-registry.js';
import { startSchedulerService } from '../dist/scheduler/http/scheduler-service.js';
import { openStateStore } from '../dist/state/open-state-store.js';

const UNLIMITED = { capacity: 1_000_000, refillPerSec: 1_000_000 };
const EXECUTOR_START_TIMEOUT_MS = 30_000;
const FOLLOW_WAIT_SEC = 20;

/** Starts the Scheduler over a new store in `dir`; `close` stops it and closes the store. */
export async function startBenchScheduler(dir) {
  await mkdir(dir, { recursive: true });
  const key = { id: 'bench', secret: randomBytes(32) };
  const store = await openStateStore({
    location: { backend: 'sqlite', path: join(dir, `state-${randomBytes(3).toString('hex')}.db`) },
    keyRing: { active: key, keys: new Map([[key.id, key]]) },
    shouldMigrate: true,
  });
  const logger = pino(
    { level: 'info' },
    pino.destination({ dest: join(dir, 'scheduler.log'), sync: false }),
  );
  const admin = await bootstrapAdminClient(store, { clientId: 'admin', actor: 'bench' });
  const executor = await createClient(store, {
    clientId: 'bench-executor',
    roles: ['executor:run', 'executor:apply'],
    actor: 'bench',
  });
  const service = await startSchedulerService({
    store,
    listenHost: '127.0.0.1',
    listenPort: 0,
    logger,
    tokenRateLimit: UNLIMITED,
    failedAuthRateLimit: UNLIMITED,
  });
  const token = await requestToken(service.url, 'admin', admin.secret);
  const call = (path, options = {}) => callApi(service.url, token, path, options);
  return {
    url: service.url,
    store,
    executorClient: { clientId: 'bench-executor', secret: executor.secret },
    call,
    close: async () => {
      await service.close();
      logger.flush();
      await store.close();
    },
  };
}

/**
 * Starts `sluice executor` for the project at `projectDir` and resolves once the Scheduler lists
 * it and its claims have had a moment to start waiting; `stop` sends SIGTERM and waits for it.
 */
export async function startBenchExecutor(scheduler, projectDir, logPath) {
  const log = await open(logPath, 'w');
  const child = spawn(
    process.execPath,
    [resolve('bin', 'sluice.js'), '--project', projectDir, 'executor'],
    {
      env: {
        ...process.env,
        SLUICE_URL: scheduler.url,
        SLUICE_CLIENT_ID: scheduler.executorClient.clientId,
        SLUICE_CLIENT_SECRET: scheduler.executorClient.secret,
      },
      stdio: ['ignore', log.fd, 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolvePromise) => child.on('exit', resolvePromise));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await log.close();
  };
  try {
    await waitForExecutor(scheduler, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await stop();
    throw error;
  }
  return { pid: child.pid, stop };
}

async function waitForExecutor(scheduler, child, stderr) {
  const deadline = performance.now() + EXECUTOR_START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sluice executor exited: ${stderr()}`);
    const answer = await scheduler.call('/v1/executors');
    if (answer.executors.length > 0) {
      // The hello is in; its first claims follow at once and then wait on the queue.
      await sleep(300);
      return;
    }
    await sleep(50);
  }
  throw new Error(`sluice executor did not say hello within ${EXECUTOR_START_TIMEOUT_MS} ms`);
}

/** What a plan of the project at `root` sends, reusable for any environment. */
export async function projectPlanParts(root) {
  const project = await loadProject(root, { logger: SILENT_LOGGER });
  const { gateway, snapshots } = await projectVersions(project);
  return {
    target: { projectName: project.config.name, gateway: gateway.name, engine: gateway.type },
    order: project.dag.nodes,
    snapshots: [...snapshots.values()],
  };
}

/**
 * Plans `environment` from `parts` and applies the plan, following the run's events to its end.
 * Gives the run as the Scheduler reports it (`created_at_ms`, `finished_at_ms`), the plan
 * request's time and the client's time from the apply request to the last event.
 */
export async function planAndApply(scheduler, parts, environment) {
  const path = `/v1/environments/${encodeURIComponent(environment)}`;
  const planStarted = performance.now();
  const planned = await scheduler.call(`${path}/plans`, {
    json: {
      environment,
      target: parts.target,
      order: parts.order,
      options: {
        isForwardOnly: false,
        restateModels: [],
        shouldSkipBackfill: false,
        selectModels: [],
      },
      snapshots: parts.snapshots,
    },
  });
  const planMs = performance.now() - planStarted;
  if (!planned.has_changes) throw new Error(`The plan of '${environment}' has no changes`);

  const applyStarted = performance.now();
  const started = await scheduler.call(`${path}/plans/${planned.plan.id}/apply`, { json: {} });
  const run = await followRun(scheduler, started.run_id);
  const clientMs = performance.now() - applyStarted;
  if (run.status !== 'succeeded') {
    throw new Error(`The apply to '${environment}' ended ${run.status}: ${JSON.stringify(run)}`);
  }
  return { run, runMs: run.finished_at_ms - run.created_at_ms, planMs, clientMs };
}

async function followRun(scheduler, runId) {
  let after = 0;
  for (;;) {
    const page = await scheduler.call(
      `/v1/runs/${encodeURIComponent(runId)}/events?after=${after}&wait_sec=${FOLLOW_WAIT_SEC}`,
    );
    for (const entry of page.events) after = entry.seq;
    if (page.run.status !== 'running' && page.events.length === 0) return page.run;
  }
}

/**
 * Every task of a run with its times as the Scheduler recorded them and the duration its
 * Executor reported for the last attempt (the engine work, as the Executor measures it).
 */
export async function runTaskTimes(scheduler, runId) {
  const tasks = [];
  let after;
  do {
    const query = `limit=500${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
    const page = await scheduler.call(`/v1/runs/${encodeURIComponent(runId)}/tasks?${query}`);
    tasks.push(...page.tasks);
    after = page.next ?? undefined;
  } while (after !== undefined);
  const details = [];
  for (const task of tasks) {
    const detail = await scheduler.call(`/v1/tasks/${encodeURIComponent(task.id)}`);
    details.push({
      kind: task.kind,
      readyMs: task.ready_at_ms,
      finishedMs: task.finished_at_ms,
      durationMs: detail.task.last_outcome?.duration_ms ?? 0,
    });
  }
  return details;
}

async function requestToken(url, clientId, secret) {
  const credentials = Buffer.from(`${clientId}:${secret}`).toString('base64');
  const response = await fetch(new URL('/oauth/token', url), {
    method: 'POST',
    headers: {
      authorization: `Basic ${credentials}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`The token request was refused: ${body.error}`);
  return body.access_token;
}

async function callApi(url, token, path, { method, json } = {}) {
  const response = await fetch(new URL(path, url), {
    method: method ?? (json === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`${method ?? 'GET'} ${path} answered ${response.status}: ${text}`);
  }
  return JSON.parse(text);
}
