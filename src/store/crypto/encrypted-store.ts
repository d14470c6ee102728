// Encryption at rest as the reference server does it: a Store wrapping any other (FILE or MEMORY)
// whose channels seal each message's `data` before the inner store sees it and open it on the way
// out; subscriptions, clients and every other field stay as they are (payload-cipher.ts has the
// format). Sizes, and so byte limits and monitoring, count the sealed payloads, as in the reference.
//
// The inner store keeps the sealed copies; the clear payloads of the messages stored are kept here
// too, the oldest evicted first within a byte budget as large as the inner store's cache (FILE):
// a clear copy takes fewer bytes than its sealed record, so it outlives it, and delivering a
// message the cache still holds (live delivery, and a subscriber behind but within the cache)
// opens nothing. A message read back from the disk is opened, and kept a while in the same
// budget, so that readers behind (catch-up, redelivery after a restart) open it once between
// them. Memory is bounded by bytes, the clear copies' own budget beside the cache's.
// A message that fails to open is a StoreCorruptError naming the channel and sequence, never
// delivered; at recovery a channel's newest sealed messages are tried, so a wrong key stops
// start-up with an error naming the channel.
import { TstanError, StoreCorruptError } from '../../util/errors.js';
import { decodeMsgProto, encodeMsgProto, msgProtoDataRange, withMsgProtoData, type ClientInfo, type MsgProto, type ServerInfo } from '../records.js';
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
import { cachedRun, ChannelMsgCache, MsgCacheBudget, type CachedRun } from '../file/msg-cache.js';
import { channelKeyOf, looksSealed, PayloadCipher, PayloadOpenError, type EncryptionSettings } from './payload-cipher.js';

/** Slots for the messages opened for readers behind the cache (each also counted by its bytes). */
const BEHIND_SLOTS = 1024;
/** Slots of the store-wide memo of the clear bytes last given to delivery. */
const MEMO_SLOTS = 1024;
/** Bytes over which a message's clear bytes are not memoised (so the memo holds 2 MB at most). */
const MEMO_ENTRY_BYTES_MAX = 2048;
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
   * The clear copies' byte budget: as many bytes as the inner store's cache (FILE), so that they
   * outlive its sealed records (a clear copy takes fewer bytes than its sealed record), or
   * CLEAR_BYTES_MAX over a store without one (MEMORY). In memory, -encrypt costs up to this much
   * more than the cache alone.
   */
  readonly clearBudget: MsgCacheBudget;
  private readonly memo = new DeliveryMemo();

  constructor(
    private readonly inner: Store,
    private readonly settings: EncryptionSettings,
  ) {
    this.clearBudget = new MsgCacheBudget(inner.msgCacheBudget?.bytesMax ?? CLEAR_BYTES_MAX);
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
 * several subscribers of a channel get the same bytes, made once. Fixed slots, small entries
 * only: 2 MB at most whatever the channels and payloads.
 */
class DeliveryMemo {
  private readonly owners = new Float64Array(MEMO_SLOTS);
  private readonly seqs = new Float64Array(MEMO_SLOTS);
  private readonly bytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(MEMO_SLOTS);
  private nextOwner = 1;

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
    this.owners[slot] = owner;
    this.seqs[slot] = seq;
    this.bytes[slot] = bytes;
  }

  clear(): void {
    this.owners.fill(0);
    this.bytes.fill(undefined);
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
   * The clear payloads of the batches stored, as runs framed like the FILE store's records (a
   * header, then the payload): one buffer per batch, counted in the store's clear budget and
   * evicted oldest first, as the cache's sealed records are, so a subscriber behind, but within
   * the cache, opens nothing.
   */
  private readonly clear: ChannelMsgCache;
  /**
   * Messages opened for readers behind the cache (read back from the disk): by sequence modulo
   * BEHIND_SLOTS, each a one-message run in the same budget, so that several such readers open
   * each message once between them, and a big payload is counted (and evicted) by its bytes.
   */
  private readonly behindSeqs = new Float64Array(BEHIND_SLOTS);
  private readonly behindRuns: Array<CachedRun | undefined> = new Array<CachedRun | undefined>(BEHIND_SLOTS);
  private readonly memoOwner: number;

  /**
   * Delivery's fast path, over a store that has one: the clear MsgProto bytes, made of the
   * store's bytes (its cache, or a read-ahead from the disk) with the sealed payload replaced by
   * the clear one, which is taken from the clear runs when they still hold it and opened only
   * when they do not.
   */
  readonly lookupEncodedSync?: (seq: number) => Uint8Array | undefined;

  constructor(
    private readonly channel: string,
    private readonly inner: MsgStore,
    private readonly cipher: PayloadCipher,
    private readonly budget: MsgCacheBudget,
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

  /** Copies the batch's clear payloads into runs of consecutive sequences (one buffer). */
  private keepClear(msgs: MsgProto[]): void {
    let bytes = 0;
    for (let i = 0; i < msgs.length; i++) bytes += RECORD_HEADER_SIZE + msgs[i]!.data.length;
    // Its own buffer, never the caller's: the payloads may be views of a bigger one.
    const buffer = Buffer.allocUnsafeSlow(bytes);
    const starts = new Uint32Array(msgs.length);
    let pos = 0;
    let runIndex = 0;
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      if (i > runIndex && msg.sequence !== msgs[i - 1]!.sequence + 1) {
        this.clear.add(cachedRun(msgs[runIndex]!.sequence, buffer, starts.subarray(runIndex, i)));
        runIndex = i;
      }
      starts[i] = pos;
      buffer.writeUInt32LE(msg.data.length, pos);
      buffer.writeUInt32LE(0, pos + 4);
      buffer.set(msg.data, pos + RECORD_HEADER_SIZE);
      pos += RECORD_HEADER_SIZE + msg.data.length;
    }
    this.clear.add(cachedRun(msgs[runIndex]!.sequence, buffer, starts.subarray(runIndex)));
  }

  /**
   * The message with its clear payload. Over a store with encoded messages this reads as
   * lookupEncodedSync does (one read of the disk for many messages), where the store's
   * lookupSync reads one record at a time.
   */
  lookupSync(seq: number): MsgProto | undefined | NotLoaded {
    if (this.lookupEncodedSync !== undefined) {
      const encoded = this.encodedAt(seq);
      return encoded === undefined ? undefined : decodeMsgProto(encoded, false);
    }
    const stored = this.inner.lookupSync(seq);
    if (stored === undefined || stored === NOT_LOADED) return stored;
    return this.opened(stored);
  }

  async lookup(seq: number): Promise<MsgProto | undefined> {
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
    const stored = await this.inner.firstMsg();
    return stored === undefined ? undefined : this.opened(stored);
  }

  async lastMsg(): Promise<MsgProto | undefined> {
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
    for (let slot = 0; slot < BEHIND_SLOTS; slot++) {
      const run = this.behindRuns[slot];
      if (run !== undefined) this.budget.release(run);
      this.behindRuns[slot] = undefined;
      this.behindSeqs[slot] = 0;
    }
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

  /** The clear payload of `seq` if a clear run holds it: a view of the run's buffer. */
  private clearData(seq: number): Uint8Array | undefined {
    const run = this.clear.find(seq);
    if (run !== undefined) return run.payload(seq);
    const slot = seq % BEHIND_SLOTS;
    if (this.behindSeqs[slot] !== seq) return undefined;
    const behind = this.behindRuns[slot];
    return behind === undefined || behind.dead ? undefined : behind.payload(seq);
  }

  /** Opens a payload read back from the disk, and keeps it for the other readers behind. */
  private openBehind(seq: number, sealed: Uint8Array): Uint8Array {
    const data = this.openData(seq, sealed);
    const buffer = Buffer.allocUnsafeSlow(RECORD_HEADER_SIZE + data.length);
    buffer.writeUInt32LE(data.length, 0);
    buffer.writeUInt32LE(0, 4);
    buffer.set(data, RECORD_HEADER_SIZE);
    const slot = seq % BEHIND_SLOTS;
    const previous = this.behindRuns[slot];
    if (previous !== undefined) this.budget.release(previous);
    const run = cachedRun(seq, buffer, new Uint32Array(1));
    this.behindSeqs[slot] = seq;
    this.behindRuns[slot] = run;
    // A payload bigger than the budget is evicted at once: it was opened for this read only.
    this.budget.admit(run);
    return buffer.subarray(RECORD_HEADER_SIZE);
  }

  /**
   * The clear MsgProto bytes of `seq`: the store's bytes when the payload is not sealed (a view,
   * as the store's own lookupEncodedSync), else a copy with the clear payload in place of the
   * sealed one; only the rest of the record is copied, nothing decoded or encoded.
   */
  private encodedAt(seq: number): Uint8Array | undefined {
    // The inner store first: it answers undefined for what limits dropped.
    const stored = this.inner.lookupEncodedSync!(seq);
    if (stored === undefined) return undefined;
    const range = msgProtoDataRange(stored);
    if (range === undefined) {
      // no payload, or bytes this walk does not follow: decode (which reports damage) and encode
      const msg = decodeMsgProto(stored, false);
      if (!looksSealed(msg.data)) return stored;
      msg.data = this.clearData(seq) ?? this.openBehind(seq, msg.data);
      return encodeMsgProto(msg);
    }
    const data = stored.subarray(range.start, range.end);
    if (!looksSealed(data)) return stored;
    const made = this.memo.get(this.memoOwner, seq);
    if (made !== undefined) return made;
    const bytes = withMsgProtoData(stored, range, this.clearData(seq) ?? this.openBehind(seq, data));
    this.memo.set(this.memoOwner, seq, bytes);
    return bytes;
  }

  /** A copy of `stored` with its payload opened (the store's own object is left as it is). */
  private opened(stored: MsgProto): MsgProto {
    if (!looksSealed(stored.data)) return stored;
    return { ...stored, data: this.clearData(stored.sequence) ?? this.openData(stored.sequence, stored.data) };
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
