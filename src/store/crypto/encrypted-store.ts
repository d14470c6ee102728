// Encryption at rest as the reference server does it: a Store wrapping any other (FILE or MEMORY)
// whose channels seal each message's `data` before the inner store sees it and open it on the way
// out; subscriptions, clients and every other field stay as they are (payload-cipher.ts has the
// format). Sizes, and so byte limits and monitoring, count the sealed payloads, as in the reference.
//
// The inner store keeps the sealed copies; the plaintext of the messages a channel last stored or
// opened (RECENT_MAX of them) is kept here too, so that live delivery (which looks up what was
// just stored) does not open what it just sealed, and readers behind (catch-up, redelivery after
// a restart) open each message once between them. A message that fails to open is a StoreCorruptError naming
// the channel and sequence, never delivered; at recovery a channel's newest sealed messages are
// tried, so a wrong key stops start-up with an error naming the channel.
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
import { channelKeyOf, looksSealed, PayloadCipher, PayloadOpenError, type EncryptionSettings } from './payload-cipher.js';

const RECENT_MAX = 4096;
/** How far back from a channel's last message recovery looks for a sealed one to try the key on. */
const KEY_CHECK_MSGS_MAX = 16;

export const EncryptionErrorCode = {
  /** A channel's stored messages do not open with the key given (start-up). */
  WrongKey: 'STORE_ENCRYPTION_KEY',
} as const;

export type { EncryptionSettings } from './payload-cipher.js';

export class EncryptedStore implements Store {
  private readonly wrapped = new Map<string, EncryptedChannel>();

  constructor(
    private readonly inner: Store,
    private readonly settings: EncryptionSettings,
  ) {}

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
    this.wrapped.delete(name);
    return this.inner.deleteChannel(name);
  }

  totals(): MsgStoreState {
    return this.inner.totals();
  }

  close(): Promise<void> {
    this.wrapped.clear();
    return this.inner.close();
  }

  /** One wrapper per inner channel: a recreated channel (same name) gets a new one. */
  private wrap(channel: Channel): EncryptedChannel {
    const existing = this.wrapped.get(channel.name);
    if (existing !== undefined && existing.inner === channel) return existing;
    const key = channelKeyOf(this.settings.masterKey, channel.name);
    const cipher = new PayloadCipher(this.settings.cipher, key, channel.msgs.lastSequence() + 1);
    const wrapper = new EncryptedChannel(channel, new EncryptedMsgStore(channel.name, channel.msgs, cipher));
    this.wrapped.set(channel.name, wrapper);
    return wrapper;
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
  /** The ring: messages last stored or read, by sequence modulo RECENT_MAX, in clear. */
  private readonly recentSeqs = new Float64Array(RECENT_MAX);
  /** The message, or undefined where only its bytes are kept (once a delivery asked for them). */
  private readonly recentMsgs: Array<MsgProto | undefined> = new Array<MsgProto | undefined>(RECENT_MAX);
  /** Its clear MsgProto bytes, once a delivery asked for them. */
  private readonly recentEncoded: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(RECENT_MAX);

  /**
   * Delivery's fast path, over a store that has one: the clear MsgProto bytes. A message behind the
   * ring is read as the store's bytes (its cache, or a read-ahead from the disk), and only its
   * payload is replaced with the opened one: no decoding and encoding of the rest. The bytes are
   * kept in the ring, so every subscriber gets the same ones and a message is opened once.
   */
  readonly lookupEncodedSync?: (seq: number) => Uint8Array | undefined;

  constructor(
    private readonly channel: string,
    private readonly inner: MsgStore,
    private readonly cipher: PayloadCipher,
  ) {
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
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      msg.sequence = sealed[i]!.sequence;
      this.remember(msg.sequence, msg, undefined);
    }
    return stored;
  }

  /**
   * The plaintext of what was just stored or read (the ring), else the stored message opened and
   * put in the ring, so that several readers of the same messages (catch-up subscribers) open each
   * once. Over a store with encoded messages this reads as lookupEncodedSync does (one read of the
   * disk for many messages), where the store's lookupSync reads one record at a time.
   */
  lookupSync(seq: number): MsgProto | undefined | NotLoaded {
    const recent = this.recent(seq);
    if (recent !== undefined) return recent;
    if (this.lookupEncodedSync !== undefined) {
      if (this.encodedAt(seq) === undefined) return undefined;
      return this.recent(seq);
    }
    const stored = this.inner.lookupSync(seq);
    if (stored === undefined || stored === NOT_LOADED) return stored;
    const msg = this.opened(stored);
    this.remember(seq, msg, undefined);
    return msg;
  }

  async lookup(seq: number): Promise<MsgProto | undefined> {
    const recent = this.recent(seq);
    if (recent !== undefined) return recent;
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
    return stored === undefined ? undefined : (this.recent(stored.sequence) ?? this.opened(stored));
  }

  async lastMsg(): Promise<MsgProto | undefined> {
    const stored = await this.inner.lastMsg();
    return stored === undefined ? undefined : (this.recent(stored.sequence) ?? this.opened(stored));
  }

  state(): MsgStoreState {
    return this.inner.state();
  }

  dropBefore(seq: number): number {
    return this.inner.dropBefore(seq);
  }

  expireAged(nowNs: bigint): number {
    return this.inner.expireAged(nowNs);
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

  /** The ring's slot for `seq`, or -1 when the ring does not hold it (or it left the channel). */
  private slotOf(seq: number): number {
    if (!Number.isSafeInteger(seq) || seq <= 0) return -1;
    const slot = seq % RECENT_MAX;
    if (this.recentSeqs[slot] !== seq || seq < this.inner.firstSequence()) return -1;
    return slot;
  }

  /** The plaintext message of `seq` from the ring, decoded from its bytes if only those are kept. */
  private recent(seq: number): MsgProto | undefined {
    const slot = this.slotOf(seq);
    if (slot < 0) return undefined;
    // The bytes are the ring's own (never a store's buffer): a view into them is safe to keep.
    return (this.recentMsgs[slot] ??= decodeMsgProto(this.recentEncoded[slot]!, false));
  }

  private remember(seq: number, msg: MsgProto | undefined, encoded: Uint8Array | undefined): void {
    const slot = seq % RECENT_MAX;
    this.recentSeqs[slot] = seq;
    this.recentMsgs[slot] = msg;
    this.recentEncoded[slot] = encoded;
  }

  private encodedAt(seq: number): Uint8Array | undefined {
    const slot = this.slotOf(seq);
    if (slot >= 0) {
      let encoded = this.recentEncoded[slot];
      if (encoded === undefined) {
        encoded = encodeMsgProto(this.recentMsgs[slot]!);
        // One copy of the payload in the ring: a later lookupSync decodes these bytes (a view).
        this.recentEncoded[slot] = encoded;
        this.recentMsgs[slot] = undefined;
      }
      return encoded;
    }
    const stored = this.inner.lookupEncodedSync!(seq);
    if (stored === undefined) return undefined;
    const encoded = this.clearEncoding(seq, stored);
    this.remember(seq, undefined, encoded);
    return encoded;
  }

  /**
   * The clear bytes of a message from the store's bytes: the payload opened in place of the sealed
   * one. Always new bytes (a clear payload's record is copied), so that the ring never keeps a
   * store's cache or read-ahead buffer alive.
   */
  private clearEncoding(seq: number, stored: Uint8Array): Uint8Array {
    const range = msgProtoDataRange(stored);
    if (range === undefined) {
      // no payload, or bytes this walk does not follow: decode (which reports damage) and encode
      const msg = decodeMsgProto(stored, false);
      if (looksSealed(msg.data)) msg.data = this.openData(seq, msg.data);
      return encodeMsgProto(msg);
    }
    const data = stored.subarray(range.start, range.end);
    if (!looksSealed(data)) return Buffer.from(stored);
    return withMsgProtoData(stored, range, this.openData(seq, data));
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
