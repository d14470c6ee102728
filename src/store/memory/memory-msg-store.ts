// One channel's messages in memory: a deque ordered by sequence (gaps allowed for replicated or
// restored batches), with a parallel array of encoded sizes so dropping the oldest message never
// re-measures it. Count and bytes limits are applied after each batch; age limits after each
// batch and on a timer this store owns (unref'd, cleared on close).

import { TstanError } from '../../util/errors.js';
import { INT64_MAX, INT64_MIN, msgProtoSize, type MsgProto } from '../records.js';
import type { ChannelLimits } from '../limits.js';
import {
  StoreErrorCode,
  type LimitReason,
  type MsgStore,
  type MsgStoreState,
  type StoreClock,
  type StoredBatch,
} from '../types.js';

const NS_PER_MS = 1_000_000n;
/** Compact the deque once this many dropped slots sit at its head. */
const COMPACT_HEAD_MIN = 4096;

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
  private items: Array<MsgProto | undefined> = [];
  private sizes: number[] = [];
  private head = 0;
  private last = 0;
  private bytes = 0;
  private readonly reported = new Set<LimitReason>();
  private ageTimer: NodeJS.Timeout | undefined;

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
    for (const msg of msgs) {
      if (msg.sequence === 0) msg.sequence = this.last + 1;
      this.last = msg.sequence;
      const size = msgProtoSize(msg);
      this.items.push(msg);
      this.sizes.push(size);
      this.bytes += size;
    }
    this.enforceCountAndBytes();
    if (this.limits.maxAgeMs > 0) {
      this.expireAged(this.hooks.clock.nowNs());
      this.armAgeTimer();
    }
    return { firstSeq: msgs[0]!.sequence, lastSeq: this.last, durable: this.hooks.durable };
  }

  private count(): number {
    return this.items.length - this.head;
  }

  private enforceCountAndBytes(): void {
    const { maxMsgs, maxBytes } = this.limits;
    if (maxMsgs > 0) {
      while (this.count() > maxMsgs) this.dropOldest('msgs');
    }
    if (maxBytes > 0) {
      // The last message is always kept, even when it alone exceeds max_bytes.
      while (this.bytes > maxBytes && this.count() > 1) this.dropOldest('bytes');
    }
    this.compact();
  }

  private dropOldest(reason: LimitReason | undefined): void {
    this.items[this.head] = undefined;
    this.bytes -= this.sizes[this.head]!;
    this.head++;
    if (reason !== undefined && !this.reported.has(reason)) {
      this.reported.add(reason);
      this.hooks.onLimitReached?.(this.hooks.channel, reason);
    }
  }

  private compact(): void {
    if (this.head >= COMPACT_HEAD_MIN && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  dropBefore(seq: number): number {
    this.hooks.checkOpen();
    let dropped = 0;
    while (this.count() > 0 && this.items[this.head]!.sequence < seq) {
      this.dropOldest(undefined);
      dropped++;
    }
    this.compact();
    return dropped;
  }

  expireAged(nowNs: bigint): number {
    const maxAgeMs = this.limits.maxAgeMs;
    if (maxAgeMs <= 0) return 0;
    const oldestKeptNs = nowNs - BigInt(maxAgeMs) * NS_PER_MS;
    let dropped = 0;
    while (this.count() > 0 && this.items[this.head]!.timestamp <= oldestKeptNs) {
      this.dropOldest('age');
      dropped++;
    }
    this.compact();
    return dropped;
  }

  private armAgeTimer(): void {
    if (!this.hooks.expireOnTimer || this.ageTimer !== undefined || this.count() === 0 || this.limits.maxAgeMs <= 0) return;
    const expiresNs = this.items[this.head]!.timestamp + BigInt(this.limits.maxAgeMs) * NS_PER_MS;
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

  /** Index in `items` of `seq`, or -1. Direct when sequences are contiguous, else binary search. */
  private indexOf(seq: number): number {
    if (this.count() === 0 || !Number.isSafeInteger(seq)) return -1;
    const first = this.items[this.head]!.sequence;
    if (seq < first || seq > this.last) return -1;
    const direct = this.head + (seq - first);
    if (direct < this.items.length && this.items[direct]!.sequence === seq) return direct;
    let low = this.head;
    let high = this.items.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const midSeq = this.items[mid]!.sequence;
      if (midSeq === seq) return mid;
      if (midSeq < seq) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  lookupSync(seq: number): MsgProto | undefined {
    this.hooks.checkOpen();
    const index = this.indexOf(seq);
    return index < 0 ? undefined : this.items[index];
  }

  lookup(seq: number): Promise<MsgProto | undefined> {
    try {
      return Promise.resolve(this.lookupSync(seq));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  firstSequence(): number {
    if (this.count() > 0) return this.items[this.head]!.sequence;
    return this.last === 0 ? 0 : this.last + 1;
  }

  lastSequence(): number {
    return this.last;
  }

  sequenceFromTimestamp(timestampNs: bigint): Promise<number> {
    if (typeof timestampNs !== 'bigint') {
      return Promise.reject(new TstanError(StoreErrorCode.RecordInvalid, 'timestamp must be a bigint'));
    }
    let low = this.head;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.items[mid]!.timestamp < timestampNs) low = mid + 1;
      else high = mid;
    }
    return Promise.resolve(low < this.items.length ? this.items[low]!.sequence : this.last + 1);
  }

  firstMsg(): Promise<MsgProto | undefined> {
    return Promise.resolve(this.count() > 0 ? this.items[this.head] : undefined);
  }

  lastMsg(): Promise<MsgProto | undefined> {
    return Promise.resolve(this.count() > 0 ? this.items[this.items.length - 1] : undefined);
  }

  state(): MsgStoreState {
    return { msgs: this.count(), bytes: this.bytes };
  }

  sync(): Promise<void> {
    return this.hooks.durable;
  }

  flush(): Promise<void> {
    return this.hooks.durable;
  }
}
