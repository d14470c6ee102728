// One channel's messages in memory, as their MsgProto encodings in chunks of consecutive
// sequences (msg-chunk.ts), oldest first; a gap in the sequences (replicated or restored batches)
// starts a new chunk. Lookups decode; first deliveries send the encodings as they are. Count and
// bytes limits are applied after each batch; age limits after each batch and on a timer this
// store owns (unref'd, cleared on close).

import { TstanError } from '../../util/errors.js';
import { decodeMsgProto, encodedMsgProtoSize, INT64_MAX, INT64_MIN, RecordInvalidError, type MsgProto } from '../records.js';
import type { ChannelLimits } from '../limits.js';
import {
  StoreErrorCode,
  type LimitReason,
  type MsgStore,
  type MsgStoreState,
  type StoreClock,
  type StoredBatch,
} from '../types.js';

import { CHUNK_BYTES_MAX, MsgChunk } from './msg-chunk.js';

const NS_PER_MS = 1_000_000n;
/** Compact the chunk list once this many dropped chunks sit at its head. */
const COMPACT_HEAD_MIN = 64;

export interface MemoryMsgStoreHooks {
  readonly channel: string;
  readonly clock: StoreClock;
  readonly durable: Promise<void>;
  /** False when the caller expires messages by age (StoreOptions.ageExpiry 'caller'). */
  readonly expireOnTimer: boolean;
  onLimitReached?: ((channel: string, reason: LimitReason) => void) | undefined;
  /** Throws STORE_CLOSED once the owning store is closed. */
  checkOpen(): void;
}

export function checkMsgForStore(msg: MsgProto): void {
  const ok =
    msg !== null &&
    typeof msg === 'object' &&
    Number.isSafeInteger(msg.sequence) &&
    msg.sequence >= 0 &&
    typeof msg.subject === 'string' &&
    typeof msg.reply === 'string' &&
    msg.data instanceof Uint8Array &&
    typeof msg.timestamp === 'bigint' &&
    msg.timestamp >= INT64_MIN &&
    msg.timestamp <= INT64_MAX;
  if (!ok) throw new TstanError(StoreErrorCode.RecordInvalid, 'invalid message given to the store');
}

export class MemoryMsgStore implements MsgStore {
  private chunks: MsgChunk[] = [];
  /** Index in `chunks` of the chunk holding the oldest message. */
  private head = 0;
  /** Messages dropped from the front of the head chunk. */
  private headDropped = 0;
  private msgs = 0;
  private last = 0;
  private bytes = 0;
  private readonly reported = new Set<LimitReason>();
  private ageTimer: NodeJS.Timeout | undefined;
  /** Encoded sizes of the batch being stored (reused from batch to batch). */
  private sizes = new Uint32Array(64);

  constructor(
    private readonly hooks: MemoryMsgStoreHooks,
    private limits: ChannelLimits,
  ) {}

  setLimits(limits: ChannelLimits): void {
    this.limits = limits;
  }

  storeBatch(msgs: MsgProto[]): StoredBatch {
    this.hooks.checkOpen();
    if (!Array.isArray(msgs)) throw new TstanError(StoreErrorCode.RecordInvalid, 'a batch must be an array');
    let expected = this.last;
    for (const msg of msgs) {
      checkMsgForStore(msg);
      if (msg.sequence !== 0 && msg.sequence <= expected) {
        throw new TstanError(
          StoreErrorCode.SequenceInvalid,
          `sequence ${msg.sequence} does not follow the last sequence ${expected} of channel "${this.hooks.channel}"`,
        );
      }
      expected = msg.sequence === 0 ? expected + 1 : msg.sequence;
    }
    if (msgs.length === 0) return { firstSeq: 0, lastSeq: 0, durable: this.hooks.durable };
    const sizes = this.measure(msgs);
    let total = 0;
    for (let i = 0; i < msgs.length; i++) total += sizes[i]!;
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      const size = sizes[i]!;
      let chunk = this.chunks[this.chunks.length - 1];
      if (chunk === undefined || this.msgs === 0 || msg.sequence !== this.last + 1 || !chunk.canTake(size)) {
        // A batch too big to share a chunk gets one sized for the rest of it.
        const rest = total;
        chunk = rest > CHUNK_BYTES_MAX / 2 ? new MsgChunk(msg.sequence, rest, msgs.length - i) : new MsgChunk(msg.sequence, rest * 2, 2 * (msgs.length - i));
        this.chunks.push(chunk);
        if (this.msgs === 0) {
          this.head = this.chunks.length - 1;
          this.headDropped = 0;
        }
      }
      chunk.append(msg, size);
      total -= size;
      this.last = msg.sequence;
      this.msgs++;
      this.bytes += size;
    }
    this.enforceCountAndBytes();
    if (this.limits.maxAgeMs > 0) {
      this.expireAged(this.hooks.clock.nowNs());
      this.armAgeTimer();
    }
    return { firstSeq: msgs[0]!.sequence, lastSeq: this.last, durable: this.hooks.durable };
  }

  /** Assigns sequences (in place) and measures every encoding; on any error nothing is changed. */
  private measure(msgs: MsgProto[]): Uint32Array {
    // Only a batch with sequences to assign must be able to undo it.
    const originals = msgs.some((m) => m.sequence === 0) ? msgs.map((m) => m.sequence) : undefined;
    if (this.sizes.length < msgs.length) this.sizes = new Uint32Array(Math.max(msgs.length, this.sizes.length * 2));
    const sizes = this.sizes;
    let next = this.last;
    try {
      for (let i = 0; i < msgs.length; i++) {
        const msg = msgs[i]!;
        if (msg.sequence === 0) msg.sequence = next + 1;
        next = msg.sequence;
        sizes[i] = encodedMsgProtoSize(msg);
      }
    } catch (error) {
      if (originals !== undefined) msgs.forEach((m, i) => (m.sequence = originals[i]!));
      if (error instanceof RecordInvalidError) throw new TstanError(StoreErrorCode.RecordInvalid, error.message, { cause: error });
      throw error;
    }
    return sizes;
  }

  private enforceCountAndBytes(): void {
    const { maxMsgs, maxBytes } = this.limits;
    if (maxMsgs > 0) {
      while (this.msgs > maxMsgs) this.dropOldest('msgs');
    }
    if (maxBytes > 0) {
      // The last message is always kept, even when it alone exceeds max_bytes.
      while (this.bytes > maxBytes && this.msgs > 1) this.dropOldest('bytes');
    }
  }

  private dropOldest(reason: LimitReason | undefined): void {
    const chunk = this.chunks[this.head]!;
    this.bytes -= chunk.size(this.headDropped);
    this.msgs--;
    this.headDropped++;
    if (this.headDropped === chunk.count) {
      // The whole chunk is gone: its buffer goes with it.
      if (this.head < this.chunks.length - 1) this.chunks[this.head++] = undefined as unknown as MsgChunk;
      else {
        this.chunks = [];
        this.head = 0;
      }
      this.headDropped = 0;
      this.compact();
    }
    if (reason !== undefined && !this.reported.has(reason)) {
      this.reported.add(reason);
      this.hooks.onLimitReached?.(this.hooks.channel, reason);
    }
  }

  private compact(): void {
    if (this.head >= COMPACT_HEAD_MIN && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  dropBefore(seq: number): number {
    this.hooks.checkOpen();
    let dropped = 0;
    while (this.msgs > 0 && this.firstSequence() < seq) {
      this.dropOldest(undefined);
      dropped++;
    }
    return dropped;
  }

  expireAged(nowNs: bigint): number {
    const maxAgeMs = this.limits.maxAgeMs;
    if (maxAgeMs <= 0) return 0;
    const oldestKeptNs = nowNs - BigInt(maxAgeMs) * NS_PER_MS;
    let dropped = 0;
    while (this.msgs > 0 && this.chunks[this.head]!.timestamp(this.headDropped) <= oldestKeptNs) {
      this.dropOldest('age');
      dropped++;
    }
    return dropped;
  }

  private armAgeTimer(): void {
    if (!this.hooks.expireOnTimer || this.ageTimer !== undefined || this.msgs === 0 || this.limits.maxAgeMs <= 0) return;
    const expiresNs = this.chunks[this.head]!.timestamp(this.headDropped) + BigInt(this.limits.maxAgeMs) * NS_PER_MS;
    const delayNs = expiresNs - this.hooks.clock.nowNs();
    const delayMs = delayNs <= 0n ? 0 : Number(delayNs / NS_PER_MS) + 1;
    this.ageTimer = setTimeout(() => {
      this.ageTimer = undefined;
      this.expireAged(this.hooks.clock.nowNs());
      this.armAgeTimer();
    }, Math.min(delayMs, 2 ** 31 - 1));
    this.ageTimer.unref();
  }

  /** Stops the age timer; the owning store calls this on channel deletion and close. */
  stop(): void {
    if (this.ageTimer !== undefined) clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
  }

  /** The chunk holding `seq` and the message's index in it, or undefined. */
  private locate(seq: number): MsgChunk | undefined {
    if (this.msgs === 0 || !Number.isSafeInteger(seq) || seq < this.firstSequence() || seq > this.last) return undefined;
    const chunks = this.chunks;
    let low = this.head;
    let high = chunks.length - 1;
    // Delivery asks mostly for the newest messages.
    if (seq >= chunks[high]!.firstSeq) return seq <= chunks[high]!.lastSeq ? chunks[high] : undefined;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const chunk = chunks[mid]!;
      if (seq < chunk.firstSeq) high = mid - 1;
      else if (seq > chunk.lastSeq) low = mid + 1;
      else return chunk;
    }
    return undefined;
  }

  lookupSync(seq: number): MsgProto | undefined {
    this.hooks.checkOpen();
    const chunk = this.locate(seq);
    return chunk === undefined ? undefined : decodeMsgProto(chunk.encoded(seq - chunk.firstSeq), false);
  }

  /** The message's MsgProto bytes as stored: a view the caller must not change. */
  lookupEncodedSync(seq: number): Uint8Array | undefined {
    this.hooks.checkOpen();
    const chunk = this.locate(seq);
    return chunk === undefined ? undefined : chunk.encoded(seq - chunk.firstSeq);
  }

  lookup(seq: number): Promise<MsgProto | undefined> {
    try {
      return Promise.resolve(this.lookupSync(seq));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  firstSequence(): number {
    if (this.msgs > 0) return this.chunks[this.head]!.firstSeq + this.headDropped;
    return this.last === 0 ? 0 : this.last + 1;
  }

  lastSequence(): number {
    return this.last;
  }

  sequenceFromTimestamp(timestampNs: bigint): Promise<number> {
    if (typeof timestampNs !== 'bigint') {
      return Promise.reject(new TstanError(StoreErrorCode.RecordInvalid, 'timestamp must be a bigint'));
    }
    for (let c = this.head; this.msgs > 0 && c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      if (chunk.timestamp(chunk.count - 1) < timestampNs) continue;
      let low = c === this.head ? this.headDropped : 0;
      let high = chunk.count - 1;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (chunk.timestamp(mid) < timestampNs) low = mid + 1;
        else high = mid;
      }
      return Promise.resolve(chunk.firstSeq + low);
    }
    return Promise.resolve(this.last + 1);
  }

  firstMsg(): Promise<MsgProto | undefined> {
    return Promise.resolve(this.msgs > 0 ? this.lookupSync(this.firstSequence()) : undefined);
  }

  lastMsg(): Promise<MsgProto | undefined> {
    return Promise.resolve(this.msgs > 0 ? this.lookupSync(this.last) : undefined);
  }

  state(): MsgStoreState {
    return { msgs: this.msgs, bytes: this.bytes };
  }

  sync(): Promise<void> {
    return this.hooks.durable;
  }

  flush(): Promise<void> {
    return this.hooks.durable;
  }
}
