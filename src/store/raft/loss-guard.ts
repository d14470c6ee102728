// How a node learns that its Raft state lost something it had made durable, and how it remembers
// that it must catch up before voting.
//
// Raft's safety rests on fsync: an entry a node acknowledged, or a vote it cast, is assumed to
// survive. A disk that loses a synced tail (a cut file, a lying write cache, a restore from an old
// copy) breaks that silently: LevelDB drops a torn or damaged write-ahead-log record on open, and
// what remains looks like a node that crashed a little earlier. Such a node may vote for a
// candidate that lacks entries it once helped commit, or lead and overwrite them.
//
// Three witnesses tell the loss apart from an ordinary crash (which loses only writes whose sync
// had not returned, and nobody was told of those):
// - the sync watermark: after every synced write the store writes, in a file of its own, the last
//   entry and the term and vote it now holds durably. The file is not fsynced on that path (it
//   costs one small write, no sync): it can only be behind the log, never ahead, so a log found
//   behind it lost synced state. Before a write that legitimately shortens the log (a conflicting
//   suffix replaced, a snapshot installed over a longer log) the watermark is lowered and fsynced.
// - a damaged record in the middle of a LevelDB write-ahead log (a valid record after a bad one):
//   a torn last record is what a crash mid-write leaves, a bad one followed by good ones is not.
// - a commit index past the last entry.
// On any of them the node starts behind the catch-up gate of the Raft core, and the catch-up
// marker (a small fsynced file) keeps it there across restarts until it has caught up.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32c } from './crc32c.js';
import type { LogPoint } from './log-check.js';
import type { DurabilityReporter } from '../durability.js';

/** What the store holds durably: its last entry, and the term and vote of its hard state. */
export interface DurableClaim {
  readonly last: LogPoint;
  readonly term: number;
  readonly vote: string;
}

const WATERMARK_MAGIC = 'TSTANWM1';
/** Fixed size, written with one pwrite at offset 0: one sector, so it is replaced whole. */
const WATERMARK_BYTES = 256;
const HEADER_BYTES = WATERMARK_MAGIC.length + 8;

function encodeClaim(claim: DurableClaim): Buffer {
  const body = Buffer.from(JSON.stringify([claim.last.index, claim.last.term, claim.term, claim.vote]));
  const buffer = Buffer.alloc(Math.max(WATERMARK_BYTES, HEADER_BYTES + body.length));
  buffer.write(WATERMARK_MAGIC, 0, 'latin1');
  buffer.writeUInt32LE(body.length, WATERMARK_MAGIC.length);
  buffer.writeUInt32LE(crc32c(body), WATERMARK_MAGIC.length + 4);
  body.copy(buffer, HEADER_BYTES);
  return buffer;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The claim in `bytes`, or undefined when the file is empty, torn or not a watermark. */
export function decodeClaim(bytes: Buffer): DurableClaim | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, WATERMARK_MAGIC.length) !== WATERMARK_MAGIC) return undefined;
  const length = bytes.readUInt32LE(WATERMARK_MAGIC.length);
  if (HEADER_BYTES + length > bytes.length) return undefined;
  const body = bytes.subarray(HEADER_BYTES, HEADER_BYTES + length);
  if (crc32c(body) !== bytes.readUInt32LE(WATERMARK_MAGIC.length + 4)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !isCount(value[0]) || !isCount(value[1]) || !isCount(value[2]) || typeof value[3] !== 'string') return undefined;
  return { last: { index: value[0], term: value[1] }, term: value[2], vote: value[3] };
}

/** The sync watermark file (see the header). One writer: the log store that owns it. */
export class SyncWatermark {
  private fd: number;
  private claimed: DurableClaim | undefined;

  private constructor(
    private readonly path: string,
    found: DurableClaim | undefined,
    private readonly durability: DurabilityReporter | undefined,
  ) {
    this.claimed = found;
    this.fd = openSync(path, 'a+');
    closeSync(this.fd);
    this.fd = openSync(path, 'r+');
  }

  /** Opens the file (created empty if missing) and reads the claim it holds. */
  static open(path: string, durability?: DurabilityReporter): SyncWatermark {
    const found = existsSync(path) ? decodeClaim(readFileSync(path)) : undefined;
    return new SyncWatermark(path, found, durability);
  }

  /** What the file claimed when opened, or since the last write. */
  get claim(): DurableClaim | undefined {
    return this.claimed;
  }

  /** A synced write completed: `claim` is durable now. One write, no sync. */
  record(claim: DurableClaim): void {
    const bytes = encodeClaim(claim);
    writeSync(this.fd, bytes, 0, bytes.length, 0);
    this.claimed = claim;
  }

  /**
   * The log is about to shrink below what the file claims: the lower claim is made durable first,
   * so that a crash after the shrink does not look like a loss.
   */
  async lower(claim: DurableClaim): Promise<void> {
    this.record(claim);
    await fsyncPath(this.path);
    this.durability?.synced(this.path, encodeClaim(claim).length);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * What the claim says the store lost, in words; empty when the store holds everything claimed.
 * `termAt` answers the term of a held entry, undefined when it is compacted or missing.
 */
export function lossesAgainst(claim: DurableClaim | undefined, held: DurableClaim, termAt: (index: number) => number | undefined): string[] {
  if (claim === undefined) return [];
  const losses: string[] = [];
  if (held.last.index < claim.last.index) {
    losses.push(`the raft log ends at ${held.last.index} but entries through ${claim.last.index} had been synced`);
  } else {
    const term = termAt(claim.last.index);
    if (term !== undefined && term !== claim.last.term) {
      losses.push(`raft log entry ${claim.last.index} has term ${term} but term ${claim.last.term} had been synced there`);
    }
  }
  if (held.term < claim.term) losses.push(`the hard state has term ${held.term} but term ${claim.term} had been synced`);
  else if (held.term === claim.term && claim.vote !== '' && held.vote !== claim.vote) {
    losses.push(`the vote of term ${claim.term} for ${claim.vote} was lost`);
  }
  return losses;
}

const BLOCK_BYTES = 32768;
const RECORD_HEADER_BYTES = 7;
const MASK_DELTA = 0xa282ead8;

function unmask(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** One LevelDB write-ahead log read the way LevelDB reads it: bad records and whether good ones follow. */
export function scanLevelDbLog(bytes: Buffer): { readonly badRecords: number; readonly goodAfterBad: boolean } {
  let badRecords = 0;
  let goodAfterBad = false;
  const typeAndData = (start: number, length: number) => bytes.subarray(start - 1, start + length);
  for (let block = 0; block < bytes.length; block += BLOCK_BYTES) {
    const end = Math.min(block + BLOCK_BYTES, bytes.length);
    let at = block;
    while (end - at >= RECORD_HEADER_BYTES) {
      const length = bytes.readUInt16LE(at + 4);
      const type = bytes[at + 6]!;
      if (type === 0 && length === 0) break; // zeroes: preallocated, or the end of the block
      const dataAt = at + RECORD_HEADER_BYTES;
      if (dataAt + length > end || type > 4) {
        badRecords++;
        break; // the framing is lost: nothing more can be read in this block
      }
      if (crc32c(typeAndData(dataAt, length)) !== unmask(bytes.readUInt32LE(at))) {
        // LevelDB drops the rest of the block; the framing still holds, so intact records after
        // this one (which LevelDB will not replay) are still seen here.
        badRecords++;
      } else if (badRecords > 0) {
        goodAfterBad = true;
      }
      at = dataAt + length;
    }
  }
  return { badRecords, goodAfterBad };
}

/** Damage in the middle of the write-ahead logs of the LevelDB in `directory`, in words. */
export function walDamage(directory: string): string[] {
  if (!existsSync(directory)) return [];
  const damage: string[] = [];
  for (const name of readdirSync(directory).filter((file) => /^\d+\.log$/.test(file)).sort()) {
    const { badRecords, goodAfterBad } = scanLevelDbLog(readFileSync(join(directory, name)));
    if (goodAfterBad) damage.push(`write-ahead log ${name} has ${badRecords} damaged record(s) followed by intact ones`);
  }
  return damage;
}

/** The catch-up marker: present while the node must catch up before voting (see the header). */
export class CatchUpMarker {
  constructor(
    private readonly path: string,
    private readonly durability?: DurabilityReporter,
  ) {}

  /** Why the node must catch up, when the marker is there. */
  read(): string | undefined {
    if (!existsSync(this.path)) return undefined;
    return readFileSync(this.path, 'utf8').trim() || 'an earlier start did not finish catching up';
  }

  /** Makes the marker durable (file and directory fsynced). */
  async set(reason: string): Promise<void> {
    const handle = await open(this.path, 'w');
    try {
      const text = `${reason}\n`;
      await handle.writeFile(text);
      await handle.sync();
      this.durability?.synced(this.path, Buffer.byteLength(text));
    } finally {
      await handle.close();
    }
    await fsyncPath(dirname(this.path));
  }

  async clear(): Promise<void> {
    if (!existsSync(this.path)) return;
    await rm(this.path, { force: true });
    await fsyncPath(dirname(this.path));
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
