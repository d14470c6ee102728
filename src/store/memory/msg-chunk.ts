// Messages of a MEMORY channel kept as their MsgProto encodings, back to back in chunks of
// consecutive sequences: no object per message (a message as MsgProto object and data buffer cost
// twice its encoded size, and every one was an object for the garbage collector to trace). A
// chunk grows by doubling up to CHUNK_BYTES_MAX and is then sealed; a batch too big for that gets
// a chunk of its own, sized exactly. Per message: its start in the buffer and its timestamp.
import { encodeMsgProtoInto } from '../records.js';
import type { MsgProto } from '../records.js';

/** A chunk stops growing at this size (small batches share chunks up to it). */
export const CHUNK_BYTES_MAX = 64 * 1024;
const CHUNK_BYTES_MIN = 512;
const CHUNK_MSGS_MIN = 8;

export class MsgChunk {
  count = 0;
  /** Bytes used in `buffer`. */
  used = 0;
  private buffer: Buffer;
  /** starts[i] is where message i begins; starts[count] is `used`. */
  private starts: Uint32Array;
  private timestamps: BigInt64Array;

  constructor(
    readonly firstSeq: number,
    bytes: number,
    msgs: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(bytes, CHUNK_BYTES_MIN));
    this.starts = new Uint32Array(Math.max(msgs, CHUNK_MSGS_MIN) + 1);
    this.timestamps = new BigInt64Array(Math.max(msgs, CHUNK_MSGS_MIN));
  }

  get lastSeq(): number {
    return this.firstSeq + this.count - 1;
  }

  /** True when `bytes` more bytes fit, growing the buffer if it may still grow. */
  canTake(bytes: number): boolean {
    const needed = this.used + bytes;
    if (needed <= this.buffer.length) return true;
    return needed <= CHUNK_BYTES_MAX;
  }

  /** Appends `msg`, whose encoding is `size` bytes (the caller checked canTake). */
  append(msg: MsgProto, size: number): void {
    const needed = this.used + size;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(CHUNK_BYTES_MAX, Math.max(needed, this.buffer.length * 2)));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    if (this.count === this.timestamps.length) {
      const starts = new Uint32Array(this.count * 2 + 1);
      starts.set(this.starts);
      this.starts = starts;
      const timestamps = new BigInt64Array(this.count * 2);
      timestamps.set(this.timestamps);
      this.timestamps = timestamps;
    }
    encodeMsgProtoInto(msg, this.buffer, this.used);
    this.timestamps[this.count] = msg.timestamp;
    this.count++;
    this.used = needed;
    this.starts[this.count] = needed;
  }

  /** The encoding of message `index` of the chunk: a view, never a copy. */
  encoded(index: number): Buffer {
    return this.buffer.subarray(this.starts[index]!, this.starts[index + 1]!);
  }

  size(index: number): number {
    return this.starts[index + 1]! - this.starts[index]!;
  }

  timestamp(index: number): bigint {
    return this.timestamps[index]!;
  }
}
