import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `sluice scheduler` as a child process, for tests that need Schedulers in processes of their
 * own (it runs the compiled CLI: `npx tsc -p tsconfig.json` first). Its JSON log lines are kept
 * as text, as the in-process test Scheduler keeps them.
 */

const SLUICE = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

/** A running `sluice scheduler`. */
export type SchedulerProcess = {
  /** Where it listens, such as `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every log line written to standard output so far. */
  readonly logs: string[];
  /** What it wrote to standard error so far. */
  readonly stderr: () => string;
  /** Sends SIGTERM and waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** Sends `signal` (SIGKILL: it dies at once, as in a crash) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
};

/** What the child is started with: its state URL and keys, a project folder, extra options. */
export type SchedulerProcessOptions = {
  readonly projectDir: string;
  readonly stateUrl: string;
  /** The key ring as SLUICE_STATE_KEYS takes it. */
  readonly stateKeys: string;
  readonly extraArgs?: readonly string[];
};

/** Starts the command on 127.0.0.1 at a free port and waits for its 'listening' line. */
export function startSchedulerProcess(options: SchedulerProcessOptions): Promise<SchedulerProcess> {
  const args = [
    SLUICE,
    '--project',
    options.projectDir,
    'scheduler',
    '--state',
    options.stateUrl,
    '--listen',
    '127.0.0.1:0',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SLUICE_STATE_KEYS: options.stateKeys },
  });
  const logs: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const text of complete) {
        logs.push(text);
        const line = JSON.parse(text) as { msg?: string; listenUrl?: string };
        if (line.msg === 'listening') {
          resolve({
            url: String(line.listenUrl),
            logs,
            stderr: () => stderr,
            stop: () => stop(child),
            kill: async (signal) => void (await stop(child, signal)),
          });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the scheduler exited with ${code}: ${stderr}`)));
  });
}

function stop(
  child: ChildProcessWithoutNullStreams,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill(signal);
  return exited;
}
