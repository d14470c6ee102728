// Encryption at rest as the reference server does it: a Store wrapping any other (FILE or MEMORY)
// whose channels seal each message's `data` before the inner store sees it and open it on the way
// out; subscriptions, clients and every other field stay as they are (payload-cipher.ts has the
// format). Sizes, and so byte limits and monitoring, count the sealed payloads, as in the reference.
//
// The inner store writes the sealed messages to the disk, but its cache of recent messages is
// taken over here (FILE: takeWriteCache) and holds them in clear: each batch stored is encoded
// in clear, framed as the store frames its records, in the same byte budget and with the same
// eviction (oldest first) as the store's own cache. Delivering a message the cache holds (live
// delivery, and a subscriber behind but within the cache) is then what it is without -encrypt: a
// view of the cached bytes, nothing opened, copied or encoded again. A message behind the cache
// is read back from the disk (the store's read-ahead, a block of sealed records at a time), its
// payload opened and put in place of the sealed one; those bytes are kept a while (DeliveryMemo,
// bounded by bytes too), so that readers behind (catch-up, redelivery after a restart) open it
// once between them. Over MEMORY, which has no cache, the clear copies get a budget of their own
// (CLEAR_BYTES_MAX). Memory is bounded by bytes throughout, whatever the payload size.
// A message that fails to open is a StoreCorruptError naming the channel and sequence, never
// delivered; at recovery a channel's newest sealed messages are tried, so a wrong key stops
// start-up with an error naming the channel.
import { TstanError, StoreCorruptError } from '../../util/errors.js';
import { decodeMsgProto, encodedMsgProtoSize, encodeMsgProto, encodeMsgProtoInto, msgProtoDataRange, withMsgProtoData, type ClientInfo, type MsgProto, type ServerInfo } from '../records.js';
import {
  NOT_LOADED,
  StoreErrorCode,
  type Channel,
  type ChannelLimits,
  type MsgStore,
  type MsgStoreState,
  type NotLoaded,
  type RecoveredChannel,
  type RecoveredState,
  type Store,
  type StoredBatch,
  type StoreLimits,
} from '../types.js';
import { checkMsgForStore } from '../memory/memory-msg-store.js';
import { RECORD_HEADER_SIZE } from '../file/format.js';
import { cachedRun, ChannelMsgCache, MsgCacheBudget } from '../file/msg-cache.js';
import { channelKeyOf, looksSealed, PayloadCipher, PayloadOpenError, type EncryptionSettings } from './payload-cipher.js';

/** Slots of the store-wide memo of the clear bytes last given to delivery. */
const MEMO_SLOTS = 4096;
/** What the memo's entries may hold together, and one entry at most. */
const MEMO_BYTES_MAX = 4 * 1024 * 1024;
const MEMO_ENTRY_BYTES_MAX = 256 * 1024;
/** What an entry costs beyond its bytes: the Buffer object and its slot. */
const MEMO_ENTRY_OVERHEAD_BYTES = 96;
/** The clear copies' byte budget over a store without a message cache of its own (MEMORY). */
const CLEAR_BYTES_MAX = 8 * 1024 * 1024;
/** How far back from a channel's last message recovery looks for a sealed one to try the key on. */
const KEY_CHECK_MSGS_MAX = 16;

export const EncryptionErrorCode = {
  /** A channel's stored messages do not open with the key given (start-up). */
  WrongKey: 'STORE_ENCRYPTION_KEY',
} as const;

export type { EncryptionSettings } from './payload-cipher.js';

export class EncryptedStore implements Store {
  private readonly wrapped = new Map<string, EncryptedChannel>();
  /**
   * The clear copies' byte budget: the inner store's cache budget (FILE), which no longer caches
   * sealed messages it stores, or CLEAR_BYTES_MAX over a store without one (MEMORY).
   */
  readonly clearBudget: MsgCacheBudget;
  private readonly memo = new DeliveryMemo();

  constructor(
    private readonly inner: Store,
    private readonly settings: EncryptionSettings,
  ) {
    this.clearBudget = inner.takeWriteCache?.() ?? new MsgCacheBudget(CLEAR_BYTES_MAX);
  }

  get type(): Store['type'] {
    return this.inner.type;
  }

  get capabilities(): Store['capabilities'] {
    return this.inner.capabilities;
  }

  async recover(): Promise<RecoveredState | undefined> {
    const state = await this.inner.recover();
    if (state === undefined) return undefined;
    const channels: RecoveredChannel[] = [];
    try {
      for (const recovered of state.channels) {
        const channel = this.wrap(recovered.channel);
        await channel.msgs.checkKey();
        channels.push({ ...recovered, channel });
      }
    } catch (error) {
      await this.inner.close().catch(() => undefined);
      throw error;
    }
    return { ...state, channels };
  }

  init(info: ServerInfo): Promise<void> {
    return this.inner.init(info);
  }

  setLimits(limits: StoreLimits): void {
    this.inner.setLimits(limits);
  }

  channelLimits(channel: string): ChannelLimits {
    return this.inner.channelLimits(channel);
  }

  getLimits(): StoreLimits {
    return this.inner.getLimits();
  }

  addClient(info: ClientInfo): Promise<void> {
    return this.inner.addClient(info);
  }

  deleteClient(clientId: string): Promise<boolean> {
    return this.inner.deleteClient(clientId);
  }

  async createChannel(name: string): Promise<Channel> {
    return this.wrap(await this.inner.createChannel(name));
  }

  lookupChannel(name: string): Channel | undefined {
    const channel = this.inner.lookupChannel(name);
    return channel === undefined ? undefined : this.wrap(channel);
  }

  channelNames(): string[] {
    return this.inner.channelNames();
  }

  async deleteChannel(name: string): Promise<boolean> {
    this.wrapped.get(name)?.msgs.forget();
    this.wrapped.delete(name);
    return this.inner.deleteChannel(name);
  }

  totals(): MsgStoreState {
    return this.inner.totals();
  }

  close(): Promise<void> {
    for (const channel of this.wrapped.values()) channel.msgs.forget();
    this.wrapped.clear();
    this.memo.clear();
    return this.inner.close();
  }

  /** One wrapper per inner channel: a recreated channel (same name) gets a new one. */
  private wrap(channel: Channel): EncryptedChannel {
    const existing = this.wrapped.get(channel.name);
    if (existing !== undefined && existing.inner === channel) return existing;
    existing?.msgs.forget();
    const key = channelKeyOf(this.settings.masterKey, channel.name);
    const cipher = new PayloadCipher(this.settings.cipher, key, channel.msgs.lastSequence() + 1);
    const wrapper = new EncryptedChannel(channel, new EncryptedMsgStore(channel.name, channel.msgs, cipher, this.clearBudget, this.memo));
    this.wrapped.set(channel.name, wrapper);
    return wrapper;
  }
}

/**
 * The clear MsgProto bytes last made for delivery, by channel and sequence, for the whole store:
 * several subscribers of a channel (live, or catching up from the disk) get the same bytes, made
 * (and for a message read back from the disk, opened) once. Fixed slots, and MEMO_BYTES_MAX at
 * most whatever the channels and payloads: an entry that does not fit is not kept.
 */
class DeliveryMemo {
  private readonly owners = new Float64Array(MEMO_SLOTS);
  private readonly seqs = new Float64Array(MEMO_SLOTS);
  private readonly bytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(MEMO_SLOTS);
  private nextOwner = 1;
  /** What the entries hold, overhead included. */
  held = 0;

  /** A number for a channel's message store, never 0 and never reused. */
  owner(): number {
    return this.nextOwner++;
  }

  get(owner: number, seq: number): Uint8Array | undefined {
    const slot = (seq + owner * 31) % MEMO_SLOTS;
    return this.seqs[slot] === seq && this.owners[slot] === owner ? this.bytes[slot] : undefined;
  }

  set(owner: number, seq: number, bytes: Uint8Array): void {
    if (bytes.length > MEMO_ENTRY_BYTES_MAX) return;
    const slot = (seq + owner * 31) % MEMO_SLOTS;
    const previous = this.bytes[slot];
    if (previous !== undefined) this.held -= previous.length + MEMO_ENTRY_OVERHEAD_BYTES;
    const cost = bytes.length + MEMO_ENTRY_OVERHEAD_BYTES;
    if (this.held + cost > MEMO_BYTES_MAX) {
      this.owners[slot] = 0;
      this.bytes[slot] = undefined;
      return;
    }
    this.held += cost;
    this.owners[slot] = owner;
    this.seqs[slot] = seq;
    this.bytes[slot] = bytes;
  }

  clear(): void {
    this.owners.fill(0);
    this.bytes.fill(undefined);
    this.held = 0;
  }
}

class EncryptedChannel implements Channel {
  constructor(
    readonly inner: Channel,
    readonly msgs: EncryptedMsgStore,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get subs(): Channel['subs'] {
    return this.inner.subs;
  }
}

class EncryptedMsgStore implements MsgStore {
  /**
   * The batches stored, encoded in clear as runs framed like the FILE store's records (a header,
   * then the MsgProto bytes): one buffer per batch, counted in the store's cache budget and
   * evicted oldest first, as the store's own cache would.
   */
  private readonly clear: ChannelMsgCache;
  private readonly memoOwner: number;

  /** Delivery's fast path, over a store that has one: the clear MsgProto bytes (encodedAt). */
  readonly lookupEncodedSync?: (seq: number) => Uint8Array | undefined;

  constructor(
    private readonly channel: string,
    private readonly inner: MsgStore,
    private readonly cipher: PayloadCipher,
    budget: MsgCacheBudget,
    private readonly memo: DeliveryMemo,
  ) {
    this.clear = new ChannelMsgCache(budget);
    this.memoOwner = memo.owner();
    if (inner.lookupEncodedSync !== undefined) this.lookupEncodedSync = (seq) => this.encodedAt(seq);
  }

  storeBatch(msgs: MsgProto[]): StoredBatch {
    if (!Array.isArray(msgs)) throw new TstanError(StoreErrorCode.RecordInvalid, 'storeBatch takes an array of messages');
    const sealed = new Array<MsgProto>(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      checkMsgForStore(msg);
      sealed[i] = msg.data.length === 0 ? { ...msg } : { ...msg, data: this.cipher.seal(msg.data) };
    }
    const stored = this.inner.storeBatch(sealed);
    for (let i = 0; i < msgs.length; i++) msgs[i]!.sequence = sealed[i]!.sequence;
    if (msgs.length > 0) this.keepClear(msgs);
    this.clear.dropBefore(this.inner.firstSequence());
    return stored;
  }

  /**
   * Encodes the batch in clear into one buffer, framed as the FILE store frames its records (its
   * cache's runs, which then need no other code): what delivery sends, kept until the budget
   * evicts it.
   */
  private keepClear(msgs: MsgProto[]): void {
    const starts = new Uint32Array(msgs.length);
    let bytes = 0;
    for (let i = 0; i < msgs.length; i++) {
      starts[i] = bytes;
      bytes += RECORD_HEADER_SIZE + encodedMsgProtoSize(msgs[i]!);
    }
    const buffer = Buffer.allocUnsafeSlow(bytes);
    let runIndex = 0;
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      if (i > runIndex && msg.sequence !== msgs[i - 1]!.sequence + 1) {
        this.clear.add(cachedRun(msgs[runIndex]!.sequence, buffer, starts.subarray(runIndex, i)));
        runIndex = i;
      }
      const start = starts[i]!;
      const end = encodeMsgProtoInto(msg, buffer, start + RECORD_HEADER_SIZE);
      buffer.writeUInt32LE(end - start - RECORD_HEADER_SIZE, start);
      buffer.writeUInt32LE(0, start + 4); // no CRC: these bytes never reach the disk
    }
    this.clear.add(cachedRun(msgs[runIndex]!.sequence, buffer, starts.subarray(runIndex)));
  }

  /**
   * The message in clear. Over a store with encoded messages this reads as lookupEncodedSync does
   * (one read of the disk for many messages), where the store's lookupSync reads one record at a
   * time.
   */
  lookupSync(seq: number): MsgProto | undefined | NotLoaded {
    if (this.lookupEncodedSync !== undefined) {
      const encoded = this.encodedAt(seq);
      return encoded === undefined ? undefined : decodeMsgProto(encoded, false);
    }
    const kept = this.clearRecord(seq);
    if (kept !== undefined) return decodeMsgProto(kept, false);
    const stored = this.inner.lookupSync(seq);
    if (stored === undefined || stored === NOT_LOADED) return stored;
    return this.opened(stored);
  }

  async lookup(seq: number): Promise<MsgProto | undefined> {
    const kept = this.clearRecord(seq);
    if (kept !== undefined) return decodeMsgProto(kept, false);
    const stored = await this.inner.lookup(seq);
    return stored === undefined ? undefined : this.opened(stored);
  }

  firstSequence(): number {
    return this.inner.firstSequence();
  }

  lastSequence(): number {
    return this.inner.lastSequence();
  }

  sequenceFromTimestamp(timestampNs: bigint): Promise<number> {
    return this.inner.sequenceFromTimestamp(timestampNs);
  }

  async firstMsg(): Promise<MsgProto | undefined> {
    const kept = this.clearRecord(this.inner.firstSequence());
    if (kept !== undefined) return decodeMsgProto(kept, false);
    const stored = await this.inner.firstMsg();
    return stored === undefined ? undefined : this.opened(stored);
  }

  async lastMsg(): Promise<MsgProto | undefined> {
    const kept = this.clearRecord(this.inner.lastSequence());
    if (kept !== undefined) return decodeMsgProto(kept, false);
    const stored = await this.inner.lastMsg();
    return stored === undefined ? undefined : this.opened(stored);
  }

  state(): MsgStoreState {
    return this.inner.state();
  }

  dropBefore(seq: number): number {
    const dropped = this.inner.dropBefore(seq);
    this.clear.dropBefore(this.inner.firstSequence());
    return dropped;
  }

  expireAged(nowNs: bigint): number {
    const expired = this.inner.expireAged(nowNs);
    if (expired > 0) this.clear.dropBefore(this.inner.firstSequence());
    return expired;
  }

  /** Gives the clear copies' bytes back to the budget (the channel is deleted or the store closes). */
  forget(): void {
    this.clear.clear();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  /**
   * Opens the newest sealed messages (of the last few): when none of them opens, the key is not
   * the one they were sealed with, and start-up stops here rather than fail on every delivery.
   * One that opens is enough, so a damaged record, or a clear payload that happens to start with
   * a cipher code, does not stop start-up on its own (its reads fail as damage, as they should).
   */
  async checkKey(): Promise<void> {
    const last = this.inner.lastSequence();
    const first = Math.max(this.inner.firstSequence(), last - KEY_CHECK_MSGS_MAX + 1, 1);
    let failed: { seq: number; error: unknown } | undefined;
    for (let seq = last; seq >= first; seq--) {
      const stored = await this.inner.lookup(seq);
      if (stored === undefined || !looksSealed(stored.data)) continue;
      try {
        this.cipher.open(stored.data);
        return;
      } catch (error) {
        failed ??= { seq, error };
      }
    }
    if (failed === undefined) return;
    throw new TstanError(
      EncryptionErrorCode.WrongKey,
      `channel "${this.channel}": message ${failed.seq} does not decrypt with the encryption key given (wrong key, or the record is damaged)`,
      { cause: failed.error },
    );
  }

  /**
   * The clear MsgProto bytes of `seq` if a clear run holds them (a view of the run's buffer) and
   * the message is still in the channel (limits drop the oldest messages only).
   */
  private clearRecord(seq: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(seq) || seq < this.inner.firstSequence()) return undefined;
    return this.clear.find(seq)?.payload(seq);
  }

  /**
   * The clear MsgProto bytes of `seq`: those kept when it was stored, as a view, as a clear
   * store's cache gives them; else read from the store (a read-ahead from the disk), and then
   * the store's bytes when the payload is not sealed, or a copy with the payload opened in place
   * of the sealed one (only the payload is opened: nothing else decoded or encoded), made once
   * for every reader while the memo keeps it.
   */
  private encodedAt(seq: number): Uint8Array | undefined {
    const kept = this.clearRecord(seq);
    if (kept !== undefined) return kept;
    const stored = this.inner.lookupEncodedSync!(seq);
    if (stored === undefined) return undefined;
    const range = msgProtoDataRange(stored);
    if (range === undefined) {
      // no payload, or bytes this walk does not follow: decode (which reports damage) and encode
      const msg = decodeMsgProto(stored, false);
      if (!looksSealed(msg.data)) return stored;
      msg.data = this.openData(seq, msg.data);
      return encodeMsgProto(msg);
    }
    const data = stored.subarray(range.start, range.end);
    if (!looksSealed(data)) return stored;
    const made = this.memo.get(this.memoOwner, seq);
    if (made !== undefined) return made;
    const bytes = withMsgProtoData(stored, range, this.openData(seq, data));
    this.memo.set(this.memoOwner, seq, bytes);
    return bytes;
  }

  /** A copy of `stored` with its payload opened (the store's own object is left as it is). */
  private opened(stored: MsgProto): MsgProto {
    if (!looksSealed(stored.data)) return stored;
    return { ...stored, data: this.openData(stored.sequence, stored.data) };
  }

  private openData(seq: number, sealed: Uint8Array): Uint8Array {
    try {
      return this.cipher.open(sealed);
    } catch (error) {
      const reason = error instanceof PayloadOpenError ? error.message : String(error);
      throw new StoreCorruptError(`channel "${this.channel}": message ${seq} does not decrypt (${reason}): wrong key or damaged record`, { cause: error });
    }
  }
}
