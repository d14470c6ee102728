// Snapshot and restore of the whole streaming state WITHOUT message payloads: clients, channels
// (identity, first and last sequence), subscriptions with their pending sequences, queue groups,
// next IDs. A node restoring one keeps the messages its store already holds for the range and
// fetches the rest (MessageFetcher: from any peer that has them), so that restoring a snapshot
// taken at index N and then applying the ops after N gives exactly the state of applying every op.
import { Packr } from 'msgpackr';
import type { Channel, MsgProto, Store } from '../store/types.js';
import { StoreCorruptError, TstanError } from '../util/errors.js';
import type { ReplicatedClock } from './context.js';
import {
  messageRange,
  clientRecordOf,
  durableKey,
  emptyStreamingState,
  type ChannelRecord,
  type GroupRecord,
  type StreamingState,
  type SubRecord,
} from './records.js';
import { SeqSet } from '../util/seq-window.js';

const SNAPSHOT_FORMAT_VERSION = 1;
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true, moreTypes: false });

/**
 * Messages [from, to] of one incarnation of a channel (its identity), from elsewhere; may return
 * fewer (some dropped by limits since), or none when the incarnation is gone everywhere.
 */
export type MessageFetcher = (channel: string, channelId: number, from: number, to: number) => Promise<MsgProto[]>;

type SubRow = [number, string, string, string, string, number, number, string, number, boolean, boolean, number[]];
type GroupRow = [string, boolean, number, number[], number];
type ChannelRow = [string, number, number, number, bigint, number, SubRow[], GroupRow[]];
type ClientRow = [string, string, Uint8Array, number, number, number, Array<[string, number]>];

export function encodeSnapshot(state: StreamingState): Uint8Array {
  const clients: ClientRow[] = [];
  for (const c of state.clients.values()) {
    const subs: Array<[string, number]> = [...c.subs].map((s) => [s.channel.name, s.id]);
    clients.push([c.id, c.hbInbox, c.connId, c.protocol, c.pingInterval, c.pingMaxOut, subs]);
  }
  const channels: ChannelRow[] = [];
  for (const ch of state.channels.values()) {
    const subs: SubRow[] = [...ch.subs.values()].map((s) => [
      s.id, s.clientId, s.qGroup, s.inbox, s.ackInbox, s.maxInFlight, s.ackWaitInSecs, s.durableName, s.lastSent,
      s.isDurable, s.isClosed, [...s.pending],
    ]);
    const groups: GroupRow[] = [...ch.groups.values()].map((g) => [g.name, g.isDurable, g.lastSent, g.members.map((m) => m.id), g.shadow?.id ?? 0]);
    channels.push([ch.name, ch.id, messageRange(ch).first, ch.lastSeq, ch.lastTimestampNs, ch.nextSubId, subs, groups]);
  }
  return packr.pack([SNAPSHOT_FORMAT_VERSION, state.nextChannelId, clients, channels]);
}

interface DecodedSnapshot {
  nextChannelId: number;
  clients: ClientRow[];
  channels: ChannelRow[];
}

function decodeSnapshot(data: Uint8Array): DecodedSnapshot {
  let body: unknown;
  try {
    body = packr.unpack(data);
  } catch (cause) {
    throw new StoreCorruptError('the streaming snapshot is not msgpack', { cause });
  }
  if (!Array.isArray(body) || body[0] !== SNAPSHOT_FORMAT_VERSION || body.length !== 4) {
    throw new StoreCorruptError('the streaming snapshot has an unknown layout');
  }
  const [, nextChannelId, clients, channels] = body as [number, unknown, unknown, unknown];
  if (!Array.isArray(clients) || !Array.isArray(channels)) throw new StoreCorruptError('the streaming snapshot has an unknown layout');
  return { nextChannelId: toNumber(nextChannelId), clients: clients as ClientRow[], channels: channels as ChannelRow[] };
}

function toNumber(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new StoreCorruptError(`the streaming snapshot holds a bad number ${String(value)}`);
  return n;
}

export interface MissingRange {
  readonly channel: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Brings the store's copy of a channel to [first, last] of the snapshot, fetching what it lacks;
 * without a fetcher, what it lacks is reported instead.
 */
async function reconcileMessages(
  store: Store,
  clock: ReplicatedClock,
  name: string,
  channelId: number,
  first: number,
  last: number,
  fetch: MessageFetcher | undefined,
  missing: MissingRange[],
): Promise<Channel> {
  let channel = store.lookupChannel(name) ?? (await store.createChannel(name));
  const held = channel.msgs;
  // Dropped before the snapshot (by age, whose drops a restarted store forgets): gone here too.
  held.dropBefore(first);
  // A store at or past the snapshot (a restart replaying its own log) is caught up by the replay.
  if (held.lastSequence() >= last) return channel;
  const contiguous = held.lastSequence() === 0 || (held.firstSequence() >= first && held.lastSequence() >= first - 1);
  if (!contiguous && fetch !== undefined) {
    // Older messages than the snapshot keeps, or a hole before its first: start the channel over.
    await store.deleteChannel(name);
    channel = await store.createChannel(name);
  }
  const start = contiguous || fetch === undefined ? Math.max(first, held.lastSequence() + 1) : first;
  if (start > last) return channel;
  if (fetch === undefined) {
    missing.push({ channel: name, from: start, to: last });
    return channel;
  }
  const msgs = (await fetch(name, channelId, start, last)).filter((m) => m.sequence >= start && m.sequence <= last);
  msgs.sort((a, b) => a.sequence - b.sequence);
  if (msgs.length === 0) return channel;
  // As of the newest message: the age limit keeps what it kept when that one was stored.
  clock.set(msgs[msgs.length - 1]!.timestamp);
  await channel.msgs.storeBatch(msgs).durable;
  return channel;
}

export interface RestoredSnapshot {
  readonly state: StreamingState;
  /** Messages the store lacks (only when no fetcher was given): a replay may bring them. */
  readonly missing: readonly MissingRange[];
}

/**
 * Rebuilds records from a snapshot over `store`: channels the snapshot lacks are deleted from
 * the store, the others reconciled; returns the new records for StanFsm.replaceState().
 */
export async function restoreSnapshot(store: Store, clock: ReplicatedClock, data: Uint8Array, fetch?: MessageFetcher): Promise<RestoredSnapshot> {
  const snapshot = decodeSnapshot(data);
  const state = emptyStreamingState();
  state.nextChannelId = snapshot.nextChannelId;
  const keep = new Set(snapshot.channels.map((row) => row[0]));
  for (const name of store.channelNames()) if (!keep.has(name)) await store.deleteChannel(name);
  const subsById = new Map<string, SubRecord>();
  const missing: MissingRange[] = [];
  for (const row of snapshot.channels) {
    const [name, id, first, last, lastTimestampNs, nextSubId, subRows, groupRows] = row;
    const channelStore = await reconcileMessages(store, clock, name, toNumber(id), toNumber(first), toNumber(last), fetch, missing);
    const channel: ChannelRecord = {
      name,
      id: toNumber(id),
      store: channelStore,
      subs: new Map(),
      durables: new Map(),
      groups: new Map(),
      nextSubId: toNumber(nextSubId),
      lastSeq: toNumber(last),
      lastTimestampNs: typeof lastTimestampNs === 'bigint' ? lastTimestampNs : BigInt(toNumber(lastTimestampNs)),
    };
    const groups = new Map<string, GroupRecord>();
    for (const [groupName, isDurable, lastSent] of groupRows) {
      groups.set(groupName, { name: groupName, isDurable, lastSent: toNumber(lastSent), members: [], shadow: undefined });
    }
    for (const [subId, clientId, qGroup, inbox, ackInbox, maxInFlight, ackWait, durableName, lastSent, isDurable, isClosed, pending] of subRows) {
      const sub: SubRecord = {
        id: toNumber(subId), channel, clientId, qGroup, inbox, ackInbox, maxInFlight, ackWaitInSecs: ackWait, durableName,
        isDurable, isClosed, lastSent: toNumber(lastSent), pending: new SeqSet(pending.map(toNumber)), group: groups.get(qGroup),
      };
      channel.subs.set(sub.id, sub);
      subsById.set(`${name}\u0000${sub.id}`, sub);
      if (sub.group === undefined && sub.isDurable) channel.durables.set(durableKey(sub.clientId, name, sub.durableName), sub);
    }
    for (const [groupName, , , memberIds, shadowId] of groupRows) {
      const group = groups.get(groupName)!;
      for (const memberId of memberIds) group.members.push(channel.subs.get(toNumber(memberId))!);
      if (toNumber(shadowId) !== 0) group.shadow = channel.subs.get(toNumber(shadowId));
      channel.groups.set(groupName, group);
    }
    state.channels.set(name, channel);
  }
  for (const [id, hbInbox, connId, protocol, pingInterval, pingMaxOut, subs] of snapshot.clients) {
    const client = clientRecordOf({ id, hbInbox, connId, protocol, pingInterval, pingMaxOut });
    for (const [channel, subId] of subs) {
      const sub = subsById.get(`${channel}\u0000${toNumber(subId)}`);
      if (sub === undefined) throw new StoreCorruptError(`the streaming snapshot names an unknown subscription ${channel}/${subId}`);
      client.subs.add(sub);
    }
    state.clients.set(id, client);
    if (client.connKey !== '') state.clientsByConnId.set(client.connKey, client);
  }
  return { state, missing };
}
