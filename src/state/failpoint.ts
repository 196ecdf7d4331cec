/**
 * A test hook for crash tests: `hitFailpoint('rekey-after-batch:2')` kills the process with
 * SIGKILL when the environment variable SLUICE_FAILPOINT names that point (several may be given,
 * separated by commas). Without the variable, which is the case outside tests, it does nothing.
 */

const FAILPOINT_VARIABLE = 'SLUICE_FAILPOINT';

/** Kills the process at once when SLUICE_FAILPOINT names `name`; a no-op otherwise. */
export function hitFailpoint(name: string): void {
  const wanted = process.env[FAILPOINT_VARIABLE];
  if (wanted === undefined || wanted === '') return;
  if (wanted.split(',').some((point) => point.trim() === name))
    process.kill(process.pid, 'SIGKILL');
}
