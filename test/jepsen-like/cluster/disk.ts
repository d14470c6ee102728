// Disk faults on a stopped node's data directory (docs/testing.md §5.3), from what the node
// reported through TSTAN_FSYNC_LOG (src/cli/test-hooks.ts):
// - power loss: every file is cut back to the length its last completed fsync covered; a file
//   never fsynced is emptied. In LevelDB's directory (the Raft log) only the write-ahead logs
//   (`*.log`) are cut, to the lengths recorded after each synced write: LevelDB fsyncs its tables,
//   MANIFEST and CURRENT itself before it uses them. Renames are taken as durable when made;
//   directory fsyncs are not modelled. Optionally one file's tail is torn: whole sectors of the lost
//   bytes survive, the last of them garbage (sectors are the unit a disk writes atomically).
// - a cut of synced bytes off the end of the Raft log's write-ahead log, or garbage appended;
// - bit flips in the middle of a file.
// Every change is returned as a list of what was done, for the run's report. All randomness comes
// from the run's seeded stream.
import { existsSync, openSync, closeSync, readFileSync, readdirSync, statSync, truncateSync, writeSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Random } from '../random.js';

export interface DurableLengths {
  /** Absolute path → bytes covered by the last completed fsync. */
  readonly files: Map<string, number>;
  /** LevelDB directory → write-ahead log name → length after the last synced write. */
  readonly levelDbLogs: Map<string, Map<string, number>>;
}

export interface DiskChange {
  readonly file: string;
  readonly action: 'truncated' | 'torn' | 'flipped' | 'appended';
  readonly fromBytes: number;
  readonly toBytes: number;
  readonly detail?: string;
}

/** Replays a node's fsync log: the durable length of every file as of its last report. */
export function readDurableLengths(fsyncLog: string): DurableLengths {
  const files = new Map<string, number>();
  const levelDbLogs = new Map<string, Map<string, number>>();
  if (!existsSync(fsyncLog)) return { files, levelDbLogs };
  for (const line of readFileSync(fsyncLog, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: { synced?: string; length?: number; levelDb?: string; logs?: Record<string, number>; renamed?: string; to?: string };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue;
    }
    if (record.synced !== undefined && record.length !== undefined) files.set(record.synced, Math.max(record.length, files.get(record.synced) ?? 0));
    else if (record.levelDb !== undefined && record.logs !== undefined) levelDbLogs.set(record.levelDb, new Map(Object.entries(record.logs)));
    else if (record.renamed !== undefined && record.to !== undefined) {
      const length = files.get(record.renamed);
      files.delete(record.renamed);
      if (length !== undefined) files.set(record.to, length);
      else files.delete(record.to);
    }
  }
  return { files, levelDbLogs };
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

const isLevelDbDir = (dir: string) => existsSync(join(dir, 'CURRENT')) && readdirSync(dir).some((name) => name.startsWith('MANIFEST-'));
/** Files that hold no data whose loss matters: locks and LevelDB's own info log. */
const SECTOR_BYTES = 512;
const IGNORED = new Set(['LOCK', 'LOG', 'LOG.old', '.rootdir.lck']);

/** What a power failure leaves of `dataDir`: each file cut to its durable length (see the file header). */
export function powerLoss(dataDir: string, durable: DurableLengths, options: { tear?: boolean; random?: Random } = {}): DiskChange[] {
  const changes: DiskChange[] = [];
  const losing: Array<{ file: string; durableBytes: number; size: number }> = [];
  for (const file of listFiles(dataDir)) {
    const name = basename(file);
    if (IGNORED.has(name) || name.endsWith('.lock')) continue;
    const dir = dirname(file);
    let keep: number | undefined;
    if (isLevelDbDir(dir)) {
      if (!name.endsWith('.log')) continue;
      keep = durable.levelDbLogs.get(dir)?.get(name) ?? 0;
    } else keep = durable.files.get(file) ?? 0;
    const size = statSync(file).size;
    if (size > keep) losing.push({ file, durableBytes: keep, size });
  }
  // One file may keep whole sectors of what it would lose, the last of them garbage: a write cut
  // short. Sectors are written whole or not at all, so nothing smaller than a sector is torn.
  const tearable = losing.filter((t) => t.size - t.durableBytes >= SECTOR_BYTES);
  const victim = options.tear === true && options.random !== undefined && tearable.length > 0 ? tearable[options.random.int(tearable.length)] : undefined;
  for (const loss of losing) {
    if (loss === victim && options.random !== undefined) {
      const lostSectors = Math.floor((loss.size - loss.durableBytes) / SECTOR_BYTES);
      const kept = (1 + options.random.int(lostSectors)) * SECTOR_BYTES;
      truncateSync(loss.file, loss.durableBytes + kept);
      appendGarbage(loss.file, loss.durableBytes + kept - SECTOR_BYTES, SECTOR_BYTES, options.random);
      changes.push({ file: loss.file, action: 'torn', fromBytes: loss.size, toBytes: loss.durableBytes + kept, detail: `durable through ${loss.durableBytes}; the last ${SECTOR_BYTES} bytes garbage` });
      continue;
    }
    truncateSync(loss.file, loss.durableBytes);
    changes.push({ file: loss.file, action: 'truncated', fromBytes: loss.size, toBytes: loss.durableBytes });
  }
  return changes;
}

function appendGarbage(file: string, at: number, count: number, random: Random): void {
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) bytes[i] = random.int(256);
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, count, at);
  } finally {
    closeSync(fd);
  }
}

/** The write-ahead logs of the LevelDB under `raftDir` (the Raft log), largest first. */
export function raftLogFiles(raftDir: string): string[] {
  return listFiles(raftDir)
    .filter((file) => basename(file).endsWith('.log') && isLevelDbDir(dirname(file)))
    .sort((a, b) => statSync(b).size - statSync(a).size);
}

/** Cuts `bytes` off the end of `file` (synced bytes included), or appends that much garbage. */
export function chopTail(file: string, bytes: number, mode: 'cut' | 'garbage', random: Random): DiskChange {
  const size = statSync(file).size;
  if (mode === 'cut') {
    const to = Math.max(0, size - bytes);
    truncateSync(file, to);
    return { file, action: 'truncated', fromBytes: size, toBytes: to, detail: `${size - to} synced bytes cut` };
  }
  appendGarbage(file, size, bytes, random);
  return { file, action: 'appended', fromBytes: size, toBytes: size + bytes, detail: `${bytes} garbage bytes appended` };
}

/** Flips `count` single bits at random offsets within the middle half of `file`. */
export function flipBits(file: string, count: number, random: Random): DiskChange {
  const size = statSync(file).size;
  const offsets: number[] = [];
  const fd = openSync(file, 'r+');
  try {
    for (let i = 0; i < count && size > 0; i++) {
      const offset = Math.floor(size / 4) + random.int(Math.max(1, Math.floor(size / 2)));
      const byte = Buffer.alloc(1);
      readSync(fd, byte, 0, 1, offset);
      byte[0] = byte[0]! ^ (1 << random.int(8));
      writeSync(fd, byte, 0, 1, offset);
      offsets.push(offset);
    }
  } finally {
    closeSync(fd);
  }
  return { file, action: 'flipped', fromBytes: size, toBytes: size, detail: `bits flipped at ${offsets.join(', ')}` };
}

/** Files under `dir` whose name matches, largest first. */
export function filesMatching(dir: string, pattern: RegExp): string[] {
  return listFiles(dir)
    .filter((file) => pattern.test(basename(file)))
    .sort((a, b) => statSync(b).size - statSync(a).size);
}
