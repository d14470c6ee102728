// The storage interface every tstan store implements (MEMORY, FILE), modelled on the reference
// server's stores package and shaped for batching: the STAN server gathers the publishes of one
// event-loop turn per channel and hands them to the MsgStore in ONE call; durability of the whole
// batch is reported by ONE Promise. Every implementation passes test/store/conformance/suite.ts.
//
// Contract shared by all methods:
// - Synchronous methods throw a TstanError (codes in StoreErrorCode) for bad input or state; they
//   never leave the store half-changed.
// - Mutations made by synchronous methods (SubStore, MsgStore.storeBatch) are visible at once to
//   lookups and to what `recover()` would return after a `flush()`; they are durable only once the
//   returned/flushed Promise resolves. A persistent store must keep them in call order.
// - Nothing here reads the wall clock: time comes from `StoreOptions.clock`.

import type { Logger } from '../util/logger.js';
import type { ClientInfo, MsgProto, ServerInfo, SubState } from './records.js';
import type { ChannelLimits, StoreLimits } from './limits.js';
import type { MsgCacheBudget } from './file/msg-cache.js';

export type { ChannelLimits, StoreLimits } from './limits.js';
export type { ClientInfo, MsgProto, ServerInfo, SubState } from './records.js';

/** Stable codes of the TstanErrors stores throw. Wire-visible ones carry the reference text. */
export const StoreErrorCode = {
  /** message: `too many channels` (reference ErrTooManyChannels, sent in PubAck/SubscriptionResponse) */
  TooManyChannels: 'STORE_TOO_MANY_CHANNELS',
  /** message: `too many subscriptions per channel` (reference ErrTooManySubs) */
  TooManySubs: 'STORE_TOO_MANY_SUBS',
  /** message: `rejecting channel "x" because channel "X" alreay exists (different cases not allowed)` */
  ChannelCaseConflict: 'STORE_CHANNEL_CASE_CONFLICT',
  /** A channel name the store cannot hold (empty, wildcard, `/`, bad dots). */
  ChannelInvalid: 'STORE_CHANNEL_INVALID',
  ChannelUnknown: 'STORE_CHANNEL_UNKNOWN',
  /** A message in a batch has a sequence that does not follow the channel's last one. */
  SequenceInvalid: 'STORE_SEQUENCE_INVALID',
  /** A record given to the store is malformed (wrong types, out of range). */
  RecordInvalid: 'STORE_RECORD_INVALID',
  SubUnknown: 'STORE_SUB_UNKNOWN',
  SubIdInUse: 'STORE_SUB_ID_IN_USE',
  ClientInvalid: 'STORE_CLIENT_INVALID',
  /** Called before `init()`/`recover()`, or after `close()`. */
  NotOpen: 'STORE_NOT_OPEN',
  Closed: 'STORE_CLOSED',
  /** Another process holds the store (file lock). */
  Locked: 'STORE_LOCKED',
  /** Reading or writing the medium failed; `cause` holds the system error. */
  Io: 'STORE_IO',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** The store type names shown by /streaming/storez and accepted by `-st`. */
export const StoreType = { Memory: 'MEMORY', File: 'FILE' } as const;
export type StoreType = (typeof StoreType)[keyof typeof StoreType];

export interface StoreClock {
  /** Nanoseconds since the Unix epoch; used only for age limits. */
  nowNs(): bigint;
}

/** Why messages were dropped: reported once per channel and reason until the channel recovers. */
export type LimitReason = 'msgs' | 'bytes' | 'age';

export interface StoreOptions {
  limits: StoreLimits;
  clock: StoreClock;
  logger: Logger;
  /**
   * Who drops messages past max_age between batches: the store on a timer of its own (default),
   * or its caller through expireAged() — a replicated state machine, whose nodes must all drop
   * the same messages at the same point of the log, never each on its own clock.
   */
  ageExpiry?: 'timer' | 'caller';
  /**
   * Called the first time a channel drops messages for a reason (the reference logs one warning),
   * once per channel store and reason.
   */
  onLimitReached?: (channel: string, reason: LimitReason) => void;
}

export interface StoreCapabilities {
  /** State survives close() + a new store on the same medium + recover(). */
  readonly persistent: boolean;
  /** `lookupSync` may answer NOT_LOADED (the caller must then use `lookup`). */
  readonly asyncLookup: boolean;
}

export interface Store {
  readonly type: StoreType;
  readonly capabilities: StoreCapabilities;
  /**
   * Over a store with a cache of recent messages (FILE): stops caching the messages it stores
   * from now on (reading back from the disk, a block at a time, goes on) and hands the cache's
   * byte budget to the caller, a wrapper that keeps those messages itself in another form
   * (encryption at rest keeps them in clear) within the same bytes.
   */
  takeWriteCache?(): MsgCacheBudget;

  /**
   * Loads what a previous run stored. Resolves `undefined` when there is nothing (always for
   * MEMORY), and then `init()` must be called. Rejects with STORE_CORRUPT / STORE_LOCKED / STORE_IO.
   * Limits (set in options) are not applied to recovered messages until the next store or expiry.
   */
  recover(): Promise<RecoveredState | undefined>;
  /** Records the server's identity and subjects (server.dat); also replaces recovered info. */
  init(info: ServerInfo): Promise<void>;

  /** Validated (see limits.ts) and applied to channels created afterwards and to existing ones. */
  setLimits(limits: StoreLimits): void;
  /** The effective limits for a channel name, per-channel entries and inheritance applied. */
  channelLimits(channel: string): ChannelLimits;
  getLimits(): StoreLimits;

  addClient(info: ClientInfo): Promise<void>;
  /** Resolves false when the client was unknown. */
  deleteClient(clientId: string): Promise<boolean>;

  /**
   * Creates a channel (the reference's lookup-or-create). Rejects with STORE_TOO_MANY_CHANNELS,
   * STORE_CHANNEL_CASE_CONFLICT or STORE_CHANNEL_INVALID, whose messages are the reference wire
   * strings. Creating an existing channel resolves to the existing one; concurrent creations of
   * one name share one Promise.
   */
  createChannel(name: string): Promise<Channel>;
  lookupChannel(name: string): Channel | undefined;
  /** Channel names in creation order. */
  channelNames(): string[];
  /** Removes the channel with its messages and subscriptions; false when it did not exist. */
  deleteChannel(name: string): Promise<boolean>;

  /** Totals over every channel, for serverz/storez. */
  totals(): MsgStoreState;

  /** Flushes everything and releases the medium; every other call afterwards throws STORE_CLOSED. */
  close(): Promise<void>;
}

export interface Channel {
  readonly name: string;
  readonly msgs: MsgStore;
  readonly subs: SubStore;
}

export interface MsgStoreState {
  msgs: number;
  bytes: number;
}

/** Answer of `lookupSync` when the message exists but is not in memory (FILE store). */
export const NOT_LOADED: unique symbol = Symbol('tstan.store.notLoaded');
export type NotLoaded = typeof NOT_LOADED;

export interface StoredBatch {
  /** Sequence of the first and last message of the batch (0/0 for an empty batch). */
  firstSeq: number;
  lastSeq: number;
  /** Resolves when the whole batch is durable (FILE with sync: fsynced); rejects STORE_IO. */
  durable: Promise<void>;
}

export interface MsgStore {
  /**
   * Stores a batch, in order. For each message, `sequence` 0 means "assign the next one" and the
   * store writes the assigned value INTO the given object (no per-message allocation); a non-zero
   * sequence (replicated batches, restores) must be greater than the channel's last sequence, and
   * a gap is allowed (the messages in between are absent). `timestamp` is set by the caller (the
   * STAN server forces it non-decreasing per channel). Byte accounting uses `msgProtoSize`.
   * After storing, count/bytes/age limits drop the oldest messages silently; the last message is
   * always kept, even when it alone exceeds max_bytes. The store keeps the message objects: the
   * caller must not mutate them afterwards.
   * Throws STORE_SEQUENCE_INVALID / STORE_RECORD_INVALID before storing anything of the batch.
   */
  storeBatch(msgs: MsgProto[]): StoredBatch;

  /** The message or undefined (never stored, dropped by limits); NOT_LOADED only if asyncLookup. */
  lookupSync(seq: number): MsgProto | undefined | NotLoaded;
  lookup(seq: number): Promise<MsgProto | undefined>;
  /**
   * Optional fast path for delivery: the message's MsgProto bytes as the store holds them
   * (sequence, subject, reply, data, timestamp: exactly what a first delivery sends), or
   * undefined when there is no such message. Never NOT_LOADED. A view the caller must not change.
   */
  lookupEncodedSync?(seq: number): Uint8Array | undefined;

  /**
   * A channel that never held a message answers 0 and 0. Once age limits emptied a channel,
   * lastSequence() keeps the last assigned sequence and firstSequence() is lastSequence()+1, as in
   * the reference, so "deliver all available" starts after what was dropped.
   */
  firstSequence(): number;
  lastSequence(): number;
  /**
   * Sequence of the first message with timestamp >= `timestampNs`; lastSequence()+1 when every
   * message is older (or the channel is empty), as the reference does.
   */
  sequenceFromTimestamp(timestampNs: bigint): Promise<number>;
  firstMsg(): Promise<MsgProto | undefined>;
  lastMsg(): Promise<MsgProto | undefined>;

  state(): MsgStoreState;

  /**
   * Drops every message with a sequence below `seq`, oldest first, as limits do (a node restored
   * from a snapshot trims what the snapshot says was dropped). Returns the number dropped.
   */
  dropBefore(seq: number): number;

  /**
   * Drops messages older than max_age at `nowNs` (unless `ageExpiry` is 'caller', the store also
   * does this by itself on a timer
   * it owns and on every storeBatch). Returns the number dropped.
   */
  expireAged(nowNs: bigint): number;

  /** Resolves when every batch stored so far is durable. */
  flush(): Promise<void>;
  /**
   * Resolves when every batch stored so far is fsynced, whatever the store's own fsync setting
   * (a cluster node's store is written without fsync and made durable before its log is compacted).
   */
  sync(): Promise<void>;
}

/** A subscription and its pending (sent, not acked) sequences, ascending. */
export interface RecoveredSubscription {
  sub: SubState;
  pending: number[];
}

export interface SubStore {
  /**
   * Records a new subscription. `sub.id` 0 means "assign the next ID" (written into `sub`); a
   * non-zero ID (replicated state) is used as given and later IDs continue after it.
   * Throws STORE_TOO_MANY_SUBS (max_subscriptions; offline durables count), STORE_SUB_ID_IN_USE.
   * The store keeps its own copy of `sub`.
   */
  createSub(sub: SubState): void;
  /** Replaces the stored state of `sub.id` (durable resume, close). Throws STORE_SUB_UNKNOWN. */
  updateSub(sub: SubState): void;
  /** Forgets the subscription and its pending set; false when it was unknown. */
  deleteSub(subId: number): boolean;
  /**
   * Records `seq` as sent and pending on the subscription and raises its stored `lastSent` to
   * `seq` if lower (as the reference's recovery does); unknown subscriptions are ignored.
   */
  addSeqPending(subId: number, seq: number): void;
  /** Removes `seq` from the pending set; unknown subscriptions or sequences are ignored. */
  ackSeqPending(subId: number, seq: number): void;
  /** What a recovery would return now: every subscription with its pending sequences. */
  list(): RecoveredSubscription[];
  /** Number of subscriptions stored (the unit of max_subscriptions). */
  count(): number;
  /** Resolves when every change made so far is durable. */
  flush(): Promise<void>;
}

export interface RecoveredChannel {
  channel: Channel;
  subscriptions: RecoveredSubscription[];
}

export interface RecoveredState {
  info: ServerInfo;
  clients: ClientInfo[];
  /** In creation order where the medium knows it, else by name. */
  channels: RecoveredChannel[];
}

/** Opens a store; the conformance suite passes a directory or key so a persistent store reopens. */
export type OpenStore = (options: StoreOptions) => Promise<Store>;
