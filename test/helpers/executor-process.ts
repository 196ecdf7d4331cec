import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `sluice executor` as a child process (the compiled CLI: `npx tsc -p tsconfig.json` first), for
 * tests that run, stop, pause or kill real Executors. Its JSON log lines are kept as text.
 */

const SLUICE = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

/** A running `sluice executor`. */
export type ExecutorProcess = {
  readonly pid: number;
  /** Every log line written to standard output so far. */
  readonly logs: string[];
  /** What it wrote to standard error so far. */
  readonly stderr: () => string;
  /** Resolves with the exit code (null when a signal ended it) once it exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Sends `signal` without waiting (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves once a log line's `msg` is `message` (and it matches `where`, when given). */
  waitForLog(message: string, where?: (line: Record<string, unknown>) => boolean): Promise<void>;
};

/** How the child is started. */
export type ExecutorProcessOptions = {
  readonly projectDir: string;
  readonly url: string;
  readonly clientId: string;
  readonly secret: string;
  readonly args?: readonly string[];
  /** Variables added to the child's environment (gateway credentials, proxies). */
  readonly env?: Readonly<Record<string, string>>;
};

/** Starts `sluice --project DIR executor ARGS` with SLUICE_URL and the client's credentials. */
export function startExecutorProcess(options: ExecutorProcessOptions): ExecutorProcess {
  const child = spawn(
    process.execPath,
    [SLUICE, '--project', options.projectDir, 'executor', ...(options.args ?? [])],
    {
      env: {
        ...process.env,
        SLUICE_URL: options.url,
        SLUICE_CLIENT_ID: options.clientId,
        SLUICE_CLIENT_SECRET: options.secret,
        ...options.env,
      },
    },
  );
  return trackChild(child);
}

/** Runs `sluice --project DIR executor --check` to its end; its exit code and output. */
export async function checkExecutorProcess(
  options: ExecutorProcessOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const executor = startExecutorProcess({ ...options, args: ['--check', ...(options.args ?? [])] });
  const code = await executor.exited;
  return { code, stdout: executor.logs.join('\n'), stderr: executor.stderr() };
}

function trackChild(child: ChildProcessWithoutNullStreams): ExecutorProcess {
  const logs: string[] = [];
  const watchers = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    logs.push(...complete);
    for (const watcher of [...watchers]) watcher();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  return {
    pid: child.pid ?? -1,
    logs,
    stderr: () => stderr,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    signal: (signal) => void child.kill(signal),
    waitForLog: (message, where) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!logs.some((text) => matches(text, message, where))) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
        void exited.then(() => {
          if (!watchers.has(check)) return;
          watchers.delete(check);
          reject(new Error(`the executor exited before logging '${message}': ${stderr}`));
        });
      }),
  };
}

function matches(
  text: string,
  message: string,
  where: ((line: Record<string, unknown>) => boolean) | undefined,
): boolean {
  if (!text.startsWith('{')) return false;
  const line = JSON.parse(text) as Record<string, unknown>;
  return line.msg === message && (where === undefined || where(line));
}
