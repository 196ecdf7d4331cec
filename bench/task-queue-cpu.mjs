// CPU time spent during a measurement, from /proc (Linux): by a child process, by this process,
// and by every PostgreSQL server process on the machine (other work on the same server counts
// too, so that figure is an upper bound). Elsewhere than Linux the figures are left out.
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SEC = 100;

/** A snapshot of the CPU seconds used so far by `childPid`, this process and PostgreSQL. */
export async function cpuSnapshot(childPid) {
  return {
    child: childPid === undefined ? 0 : await processCpuSec(childPid),
    self: selfCpuSec(),
    postgres: await postgresCpuSec(),
  };
}

/** CPU milliseconds per task between two snapshots, rounded to a tenth. */
export function cpuPerTaskMs(before, after, tasks) {
  const per = (key) => Number((((after[key] - before[key]) * 1000) / tasks).toFixed(2));
  return { service: per('child'), executors: per('self'), postgres: per('postgres') };
}

function selfCpuSec() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function processCpuSec(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return 0;
  }
}

async function postgresCpuSec() {
  let total = 0;
  let entries;
  try {
    entries = await readdir('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const command = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (command.trim() === 'postgres') total += await processCpuSec(entry);
  }
  return total;
}
