/** CPU time of processes by pid, from /proc/<pid>/stat (Linux): utime + stime, in µs. */
import { readFile } from 'node:fs/promises';

/** USER_HZ: the unit of /proc's times, 100 on Linux. */
const TICKS_PER_SECOND = 100;

export type CpuReading = Readonly<Record<string, number>>;

async function processMicros(pid: number): Promise<number> {
  if (pid === process.pid) {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  }
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / TICKS_PER_SECOND;
}

/** CPU used so far (µs) by each named process. */
export async function readCpu(pids: Readonly<Record<string, number>>): Promise<CpuReading> {
  const entries = await Promise.all(
    Object.entries(pids).map(async ([name, pid]) => [name, await processMicros(pid)] as const),
  );
  return Object.fromEntries(entries);
}
