// Open and maximum file descriptors of this process from Linux procfs, as the reference reports
// them in serverz (`open_fds`, `max_fds`). Undefined where procfs is absent, so the fields are
// omitted as the reference's omitempty does.

import { readdirSync, readFileSync } from 'node:fs';

export function readFileDescriptors(procRoot = '/proc/self'): { open: number; max: number } | undefined {
  try {
    const open = readdirSync(`${procRoot}/fd`).length;
    const limits = readFileSync(`${procRoot}/limits`, 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const max = soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : 0;
    return { open, max };
  } catch {
    return undefined;
  }
}
