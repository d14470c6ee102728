// What a benchmark reads about a server process from /proc: CPU time and peak resident memory.
import { readFileSync } from 'node:fs';

/** utime + stime in seconds from a stat file of /proc (clock ticks of 1/100 s). */
function statCpuSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** utime + stime of a process in seconds, from /proc/<pid>/stat: all its threads. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * utime + stime of a process's main thread only (its tid is the pid), from
 * /proc/<pid>/task/<pid>/stat. In a Node server that is the JavaScript thread; the rest of
 * cpuSeconds is V8's optimizing compiler and GC threads and libuv's threadpool (fsync), much of it
 * a fixed cost of a fresh process that short runs would otherwise count as cost per message.
 */
export function mainThreadCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

/** Peak resident set size (VmHWM) in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}
